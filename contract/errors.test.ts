import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errors, isSloError } from './errors.ts';

const doc = readFileSync(new URL('../docs/ERRORS.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/`(SLO_ERR_[A-Z_]+)`/g)].map((m) => m[1] ?? ''));

describe('error catalog', () => {
  it('documents every code in docs/ERRORS.md', () => {
    const undocumented = Object.keys(errors).filter((code) => !documented.has(code));
    expect(undocumented).toEqual([]);
  });

  it('documents no code that the catalog lacks', () => {
    const stale = [...documented].filter((code) => !(code in errors));
    expect(stale).toEqual([]);
  });

  it('keys match the codes they create, and exit codes follow the documented classes', () => {
    for (const [key, make] of Object.entries(errors)) {
      const error = make('x');
      expect(error.code).toBe(key);
      expect(isSloError(error)).toBe(true);
      expect([2, 3]).toContain(error.exitCode);
    }
  });

  it('formats one line with the hint', () => {
    const error = errors.SLO_ERR_CLI_USAGE('--profile must be one of quick, full, got "fast"', 'try --profile quick');
    expect(error.oneLine()).toBe('SLO_ERR_CLI_USAGE: --profile must be one of quick, full, got "fast" (try --profile quick)');
    expect(error.oneLine()).not.toContain('\n');
  });
});

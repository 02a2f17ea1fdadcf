import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEmbeddedEngine, ENGINE_BINARY_NAME } from './embedded-build.ts';

describe('building the embedded engine', () => {
  it('without Go: one SLO_ERR_ENV_MISSING_TOOL line saying how to install Go (exit 3), nothing written', async () => {
    const toolsBin = join(mkdtempSync(join(tmpdir(), 'slo-engine-build-')), 'bin');
    const lines: string[] = [];
    const failure = await buildEmbeddedEngine({ log: (l) => lines.push(l), toolsBin, go: null })
      .then(() => undefined, (error: unknown) => error as { code: string; exitCode: number; oneLine(): string });
    expect(failure?.code).toBe('SLO_ERR_ENV_MISSING_TOOL');
    expect(failure?.exitCode).toBe(3);
    expect(failure?.oneLine()).toMatch(/^SLO_ERR_ENV_MISSING_TOOL: the embedded load engine is built with Go, and Go is not installed \(install Go/);
    expect(lines).toEqual([]);
    expect(existsSync(toolsBin)).toBe(false);
  });

  it('builds once, then answers from its stamp without building again', async () => {
    const toolsBin = join(mkdtempSync(join(tmpdir(), 'slo-engine-build-')), 'bin');
    const lines: string[] = [];
    const first = await buildEmbeddedEngine({ log: (l) => lines.push(l), toolsBin });
    expect(first).toBe(join(toolsBin, ENGINE_BINARY_NAME));
    expect(lines).toHaveLength(1);
    expect(await buildEmbeddedEngine({ log: (l) => lines.push(l), toolsBin })).toBe(first);
    expect(lines).toHaveLength(1);
  }, 180_000);
});

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureKubernetesBinaries } from './build.ts';

describe('ensureKubernetesBinaries', () => {
  it('without Go: one SLO_ERR_ENV_MISSING_TOOL line, exit 3, nothing built', async () => {
    const lines: string[] = [];
    const toolsDir = join(tmpdir(), `slo-no-go-${process.pid}`);
    const failure = await ensureKubernetesBinaries({ env: { PATH: '/nonexistent' }, fallbackGo: '/nonexistent/go', log: (l) => lines.push(l), toolsDir })
      .then(() => undefined, (error: unknown) => error as { code: string; exitCode: number; oneLine(): string });
    expect(failure?.code).toBe('SLO_ERR_ENV_MISSING_TOOL');
    expect(failure?.exitCode).toBe(3);
    expect(failure?.oneLine()).toMatch(/^SLO_ERR_ENV_MISSING_TOOL: .*Go is not installed \(install Go/);
    expect(failure?.oneLine()).not.toContain('\n');
    expect(lines).toEqual([]);
    expect(existsSync(toolsDir)).toBe(false);
  });
});

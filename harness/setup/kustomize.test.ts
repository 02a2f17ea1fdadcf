import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKustomize, installCommandLine } from './kustomize.ts';

const scratch = mkdtempSync(join(tmpdir(), 'kustomize-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function executable(dir: string, name: string, body = 'exit 0'): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('ensureKustomize', () => {
  it('prefers a kustomize on PATH over the cached build', async () => {
    const onPath = executable(join(scratch, 'path1'), 'kustomize');
    executable(join(scratch, 'tools1'), 'kustomize');
    await expect(ensureKustomize({ env: { PATH: join(scratch, 'path1') }, toolsBin: join(scratch, 'tools1') })).resolves.toBe(onPath);
  });

  it('uses the cached build in the tools dir when PATH has none', async () => {
    const cached = executable(join(scratch, 'tools2'), 'kustomize');
    await expect(ensureKustomize({ env: { PATH: join(scratch, 'empty') }, toolsBin: join(scratch, 'tools2') })).resolves.toBe(cached);
  });

  it('fails with SLO_ERR_ENV_MISSING_TOOL (exit 3) and the install line when neither kustomize nor Go exist', async () => {
    const toolsBin = join(scratch, 'tools3');
    await expect(ensureKustomize({ env: { PATH: join(scratch, 'empty') }, toolsBin })).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, hint: expect.stringContaining(installCommandLine(toolsBin)),
    });
  });

  it('reports a failed Go build as SLO_ERR_ENV_INSTALL_FAILED with the tail of its output', async () => {
    const pathDir = join(scratch, 'path4');
    executable(pathDir, 'go', 'echo "go: module lookup disabled" >&2; exit 1');
    await expect(ensureKustomize({ env: { PATH: pathDir }, toolsBin: join(scratch, 'tools4') })).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_INSTALL_FAILED', exitCode: 3, message: expect.stringContaining('module lookup disabled'),
    });
  });
});

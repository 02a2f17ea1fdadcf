import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureK6, findOrBuildK6, K6_VERSION } from './k6-install.ts';

function fakeK6(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'k6');
  writeFileSync(path, `#!/bin/sh\necho "k6 ${version} (go1.26, linux/amd64)"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('ensureK6', () => {
  it('finds the pinned k6 and answers instantly the second time', async () => {
    const path = await ensureK6();
    expect(execFileSync(path, ['version'], { encoding: 'utf8' })).toContain(`k6 ${K6_VERSION}`);
    const started = performance.now();
    expect(await ensureK6()).toBe(path);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('prefers k6 on PATH only at the pinned version', async () => {
    const root = mkdtempSync(join(tmpdir(), 'slo-k6-install-'));
    const right = fakeK6(join(root, 'right'), K6_VERSION);
    fakeK6(join(root, 'wrong'), 'v0.49.0');
    const project = fakeK6(join(root, 'project'), K6_VERSION);
    expect(await findOrBuildK6({ pathDirs: [join(root, 'right')], projectK6: project, go: null })).toBe(right);
    expect(await findOrBuildK6({ pathDirs: [join(root, 'wrong')], projectK6: project, go: null })).toBe(project);
  });

  it('without k6 and without Go, says how to install k6 (SLO_ERR_ENV_MISSING_TOOL, exit 3)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'slo-k6-install-'));
    fakeK6(join(root, 'wrong'), 'v0.49.0');
    await expect(findOrBuildK6({ pathDirs: [join(root, 'wrong')], projectK6: join(root, 'none', 'k6'), go: null }))
      .rejects.toMatchObject({ code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, hint: expect.stringMatching(/install k6 v1\.8\.1/) });
  });
});

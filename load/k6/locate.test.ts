import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateK6 } from './locate.ts';

function fakeK6(dir: string, versionLine: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'k6');
  writeFileSync(path, `#!/bin/sh\necho "${versionLine}"\n`);
  chmodSync(path, 0o755);
  return dir;
}

describe('locateK6 (the user brings k6; the project never installs it)', () => {
  const root = mkdtempSync(join(tmpdir(), 'slo-k6-locate-'));

  it('takes a k6 v1.x on PATH', async () => {
    const dir = fakeK6(join(root, 'v1'), 'k6 v1.8.1 (commit/devel, go1.26, linux/amd64)');
    expect(await locateK6(dir)).toBe(join(dir, 'k6'));
  });

  it('refuses an unsupported version, and no k6 at all, with one line and the install hint (exit 3)', async () => {
    const old = fakeK6(join(root, 'v0'), 'k6 v0.49.0 (go1.21, linux/amd64)');
    await expect(locateK6(old)).rejects.toMatchObject({ code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, message: expect.stringMatching(/v0\.49\.0.*supports v1\.x/) });
    await expect(locateK6(join(root, 'empty'))).rejects.toMatchObject({ code: 'SLO_ERR_ENV_MISSING_TOOL', exitCode: 3, hint: expect.stringMatching(/install k6 v1\.x/) });
    const broken = fakeK6(join(root, 'broken'), 'hello');
    await expect(locateK6(broken)).rejects.toMatchObject({ message: expect.stringMatching(/does not report a k6 version/) });
  });
});

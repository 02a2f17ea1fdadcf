import { describe, expect, it } from 'vitest';
import { ensureDebianPackages, installCommand, missingDebianPackages } from './debian.ts';

describe('ensureDebianPackages', () => {
  it('sees the packages installed on this machine as present', async () => {
    expect(await missingDebianPackages(['postgresql-15', 'containerd', 'chromium'])).toEqual([]);
    await ensureDebianPackages(['postgresql-15'], { log: () => undefined, isRoot: false });
  });

  it('reports an unknown package as missing via dpkg', async () => {
    expect(await missingDebianPackages(['slo-harness-no-such-package'])).toEqual(['slo-harness-no-such-package']);
  });

  it('without root, fails with exit 3 and the exact sudo apt-get line', async () => {
    const attempt = ensureDebianPackages(['postgresql-15', 'slo-harness-no-such-package'], { log: () => undefined, isRoot: false });
    await expect(attempt).rejects.toMatchObject({
      code: 'SLO_ERR_ENV_MISSING_TOOL',
      exitCode: 3,
      hint: `run: ${installCommand(['slo-harness-no-such-package'])}`,
    });
    expect(installCommand(['a', 'b'])).toBe('sudo apt-get install -y --no-install-recommends a b');
  });
});

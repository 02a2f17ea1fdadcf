// The cluster's daemons are found again by pid file and executable, also when the binary was started
// through a symlinked folder (a .tools linked from another checkout): the kernel reports the real path.
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runningPid, startDaemon, stopDaemon } from './daemons.ts';

describe('daemons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slo-daemons-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a daemon started through a symlinked folder is seen running, then stopped', async () => {
    const sleep = realpathSync('/bin/sleep');
    const linked = join(dir, 'bin');
    symlinkSync(dirname(sleep), linked);
    const spec = { name: 'napper', binary: join(linked, 'sleep'), args: ['30'], logDir: join(dir, 'logs'), pidDir: join(dir, 'pids') };
    const pid = startDaemon(spec);
    expect(runningPid(spec.pidDir, spec.name)).toBe(pid);
    expect(await stopDaemon(spec.pidDir, spec.name, 2000)).toBe(true);
    expect(runningPid(spec.pidDir, spec.name)).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

// When the harness itself is SIGKILLed no hook runs and its detached process groups live on. The next up()
// in the same runs folder must reap them (pid files + an environment marker, see processes.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../types.ts';
import { createLocalCluster } from './index.ts';
import { STAND_IN_COMMAND, newRunsRoot, testContext } from '../../testing/local/harness-context.ts';
import { sleep } from '../wait.ts';

const CRASH_HARNESS = fileURLToPath(new URL('../../testing/local/crash-harness.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('a SIGKILLed harness leaves nothing behind after the next up()', () => {
  const runsRoot = newRunsRoot();
  let harness: ChildProcess | undefined;
  let leftovers: number[] = [];
  let next: Cluster | undefined;

  afterAll(async () => {
    harness?.kill('SIGKILL');
    await next?.down();
    // Whatever the assertions said, do not leave the orphans of this test running.
    for (const pid of leftovers) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('reaps the orphaned process groups of the crashed run', async () => {
    harness = spawn(process.execPath, ['--import', 'tsx', CRASH_HARNESS, runsRoot, 'crashed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: harness!.stdout! });
      lines.once('line', resolve);
      harness!.once('exit', (code) => reject(new Error(`crash harness exited early (${code})`)));
    });
    const { pids, lbPort } = JSON.parse(firstLine) as { pids: number[]; lbPort: number };
    leftovers = pids;
    expect(pids).toHaveLength(4); // haproxy + 3 pods
    const exited = new Promise((resolve) => harness!.once('exit', resolve));
    harness.kill('SIGKILL');
    await exited;
    // The orphans really are there: this is the situation to clean up.
    expect(pids.filter(alive)).toEqual(pids);
    expect(await portAnswers(lbPort)).toBe(true);

    next = createLocalCluster(testContext(runsRoot, 'next'), { app: STAND_IN_COMMAND, settings: { database: false, prometheus: false, hpa: false } });
    await next.up();
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(100);
    expect(pids.filter(alive)).toEqual([]);
    expect(await portAnswers(lbPort)).toBe(false);
    expect((await fetch(`${next.endpoint().baseUrl}/health`)).status).toBe(200);
  });
});

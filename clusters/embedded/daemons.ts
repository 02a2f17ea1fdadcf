// Starting and stopping the cluster's long-running programs. Each runs detached (it must outlive a
// `up-main.ts` that exits), writes to its own log file, and leaves a pid file; stopping reads the pid file
// and checks /proc/<pid>/exe before signalling, so a recycled pid of someone else's process is never hit.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { sleep } from '../wait.ts';

export interface DaemonSpec {
  name: string;
  binary: string;
  args: readonly string[];
  logDir: string;
  pidDir: string;
  env?: Record<string, string>;
}

export function pidFile(pidDir: string, name: string): string {
  return join(pidDir, `${name}.pid`);
}

export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(spec.logDir, { recursive: true });
  mkdirSync(spec.pidDir, { recursive: true });
  const log = openSync(join(spec.logDir, `${spec.name}.log`), 'a');
  try {
    const child = spawn(spec.binary, spec.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...spec.env },
    });
    if (child.pid === undefined) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`${spec.name} did not start (${spec.binary})`);
    child.unref();
    // The kernel names the executable by its real path (/proc/<pid>/exe): a binary reached through a
    // symlinked folder must be recorded the same way, or the daemon would look gone and never be stopped.
    writeFileSync(pidFile(spec.pidDir, spec.name), `${child.pid}\n${realpathSync(spec.binary)}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The pid from the pid file when that process is still the same program; undefined otherwise. */
export function runningPid(pidDir: string, name: string): number | undefined {
  const file = pidFile(pidDir, name);
  if (!existsSync(file)) return undefined;
  const [pidText, binary] = readFileSync(file, 'utf8').split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    // A zombie or a reused pid has another (or no) executable: not ours.
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') === binary ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; removes the pid file. Harmless when it is not running. */
export async function stopDaemon(pidDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = runningPid(pidDir, name);
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(50);
  }
  rmSync(pidFile(pidDir, name), { force: true });
  return pid !== undefined;
}

/** Throws with the log's last lines when the daemon exited while we waited for it. */
export function assertRunning(spec: Pick<DaemonSpec, 'name' | 'logDir' | 'pidDir'>): void {
  if (runningPid(spec.pidDir, spec.name) !== undefined) return;
  const logFile = join(spec.logDir, `${spec.name}.log`);
  const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : '(no log)';
  throw errors.SLO_ERR_ENV_PROCESS_FAILED(`${spec.name} exited: ${lines}`, `see ${logFile}`);
}

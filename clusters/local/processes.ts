// Child processes of the local cluster. Each is the leader of its own process group (detached), so killing
// the group takes its whole tree (a shell wrapper, node + tsx workers, patroni's postgres...). Every group
// leaves a pid file under `<runDir>/pids/`, tagged with an environment marker, so that:
//  - a process-exit hook can SIGKILL every live group synchronously as a last resort, and
//  - when the harness itself was SIGKILLed (no hook runs; Node has no prctl(PR_SET_PDEATHSIG)), the next
//    `up()` in the same runs folder reaps the groups that the dead harness left behind (`reapStaleGroups`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from '../wait.ts';
import { processAlive } from '../process-alive.ts';

/** Environment marker carried by every process we start: proves a pid still belongs to us before a kill. */
export const OWNER_ENV = 'SLO_HARNESS_PIDFILE';

export interface GroupExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessGroup {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<GroupExit>;
  /** True until the leader has exited. */
  alive(): boolean;
  /** Signals the whole group; a no-op once it is gone. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the leader has exited. */
  stop(graceMs: number): Promise<GroupExit>;
}

export interface SpawnOptions {
  name: string;
  runDir: string;
  /** argv form, or a shell command line when `shell` is true (a user's `--app "<command>"`). */
  command: string;
  args?: string[];
  shell?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** Run as this user (PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: whatever exit path the harness takes, no group outlives it (synchronous kills only).
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export const pidDir = (runDir: string) => join(runDir, 'pids');

/** Records this harness as the owner of the run folder: while it lives, nobody reaps the folder. */
export function claimRunDir(runDir: string): void {
  mkdirSync(pidDir(runDir), { recursive: true });
  writeFileSync(join(pidDir(runDir), 'owner'), String(process.pid));
}

export function spawnGroup(options: SpawnOptions): ProcessGroup {
  installExitHook();
  mkdirSync(dirname(options.logFile), { recursive: true });
  mkdirSync(pidDir(options.runDir), { recursive: true });
  const pidFile = join(pidDir(options.runDir), `${options.name}.pid`);
  claimRunDir(options.runDir);
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args ?? [], {
      shell: options.shell ?? false,
      detached: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env, [OWNER_ENV]: pidFile },
      stdio: ['ignore', log, log],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.name}: ${options.command}`);
  liveGroups.add(pid);
  writeFileSync(pidFile, String(pid));
  let running = true;
  let stopRequested = false;
  const exited = new Promise<GroupExit>((resolve) => {
    child.once('exit', (code, signal) => {
      void (async () => {
        if (stopRequested) {
          // A shell wrapper dies at once on SIGTERM while the service it started drains: the group lives on
          // until its last member exits (stop() SIGKILLs it after the grace period).
          while (groupHasMembers(pid)) await sleep(50);
        } else {
          // The main process died on its own: like a container, nothing of it outlives it.
          killGroup(pid, 'SIGKILL');
        }
        running = false;
        liveGroups.delete(pid);
        rmSync(pidFile, { force: true });
        resolve({ code, signal });
      })();
    });
  });
  child.once('error', () => undefined);
  const group: ProcessGroup = {
    name: options.name,
    pid,
    exited,
    alive: () => running,
    signal: (signal) => {
      if (running) killGroup(pid, signal);
    },
    stop: async (graceMs) => {
      stopRequested = true;
      group.signal('SIGTERM');
      const timer = setTimeout(() => group.signal('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return group;
}

function groupHasMembers(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function ownedBy(pid: number, pidFile: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    return environ.split('\0').includes(`${OWNER_ENV}=${pidFile}`);
  } catch {
    return false;
  }
}

export { processAlive };

/** Every pid whose environment carries this pid file's marker (the leader and anything it left behind). */
function markedPids(pidFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (ownedBy(pid, pidFile)) pids.push(pid);
  }
  return pids;
}

/**
 * Kills what an earlier harness that died without cleaning up (SIGKILL, OOM) left running from runs in
 * `runsRoot`. A run folder is stale when the harness pid in `pids/owner` is no longer alive. Only processes
 * still carrying our marker are killed, so a recycled pid is never hit. Returns how many pids were killed
 * and which run folders were stale (their database, if any, is for the database module to reap).
 */
export function reapStaleGroups(runsRoot: string): { killed: number; staleRuns: string[] } {
  const staleRuns: string[] = [];
  if (!existsSync(runsRoot)) return { killed: 0, staleRuns };
  let killed = 0;
  for (const run of readdirSync(runsRoot)) {
    const runDir = join(runsRoot, run);
    if (!isStale(runDir)) continue;
    staleRuns.push(runDir);
    killed += reapRunGroups(runDir);
  }
  return { killed, staleRuns };
}

/** A run folder whose owning harness process is gone (its pid files may name live orphans). */
function isStale(runDir: string): boolean {
  const ownerFile = join(runDir, 'pids', 'owner');
  if (!existsSync(ownerFile)) return false;
  const owner = Number(readFileSync(ownerFile, 'utf8'));
  return !(owner === process.pid || (owner > 0 && processAlive(owner)));
}

/** SIGKILLs every process group named by one run folder's pid files; returns how many it signalled. */
export function reapRunGroups(runDir: string): number {
  const dir = join(runDir, 'pids');
  if (!existsSync(dir)) return 0;
  let killed = 0;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.pid')) continue;
    const pidFile = join(dir, file);
    for (const pid of markedPids(pidFile)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // gone meanwhile
      }
    }
    rmSync(pidFile, { force: true });
  }
  rmSync(join(dir, 'owner'), { force: true });
  return killed;
}

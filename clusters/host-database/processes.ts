// Process groups for the database's daemons. Every daemon leads its own process group (spawned detached), so
// one signal reaches it and every child it forked. Pid files on disk let a later run reap a crashed one.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../wait.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Null while running; the exit code (or signal name) once it ended. */
  exit(): string | null;
  /** Resolves when the process has ended (never rejects). */
  readonly ended: Promise<void>;
}

export interface SpawnDaemonOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here, so a failure can be explained from the run folder. */
  logFile: string;
  /** Folder of pid files; the file is `<name>.pid`. */
  pidDir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  runAs?: RunAs;
}

export function spawnDaemon(options: SpawnDaemonOptions): Daemon {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      // detached: the child calls setsid, so its pid is also its process-group id.
      detached: true,
      stdio: ['ignore', log, log],
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
    });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  const pid = child.pid;
  writeFileSync(join(options.pidDir, `${options.name}.pid`), `${pid}\n`);
  let exit: string | null = null;
  const ended = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ?? String(code);
      resolve();
    });
    child.once('error', (error) => {
      exit = error.message;
      resolve();
    });
  });
  return { name: options.name, pid, exit: () => exit, ended };
}

export interface ProcessInfo {
  pid: number;
  pgid: number;
  state: string;
  cmdline: string;
}

/** One process from /proc, or null when it is gone. Zombies count as gone: they hold no port and no file. */
export function processInfo(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces or parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0] ?? '?';
    if (state === 'Z' || state === 'X') return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, pgid: Number(fields[2]), state, cmdline };
  } catch {
    return null;
  }
}

export function listProcesses(): ProcessInfo[] {
  const infos: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = processInfo(Number(entry));
    if (info) infos.push(info);
  }
  return infos;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Waits until none of the pids is alive (zombies count as dead), or the deadline passes. True when all are gone. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((pid) => processInfo(pid) === null)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** Live processes (not this one) whose command line contains one of the markers. */
export function matchingProcesses(markers: readonly string[]): ProcessInfo[] {
  return listProcesses().filter((p) => p.pid !== process.pid && markers.some((m) => p.cmdline.includes(m)));
}

/**
 * SIGKILLs the process group of every process whose command line contains one of the markers, and the
 * process itself (a child may have left the group). Returns how many processes matched.
 */
export function killMatching(markers: readonly string[]): number {
  const matches = matchingProcesses(markers);
  for (const match of matches) {
    // Never signal our own group: the harness itself would die.
    if (match.pgid !== process.pid && match.pgid !== processInfo(process.pid)?.pgid) signalGroup(match.pgid, 'SIGKILL');
    try {
      process.kill(match.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return matches.length;
}

/** Pids from `<pidDir>/*.pid` whose process still runs with `marker` in its command line (pids get reused). */
export function livePidsFromFiles(pidDir: string, marker: string): number[] {
  if (!existsSync(pidDir)) return [];
  const pids: number[] = [];
  for (const file of readdirSync(pidDir)) {
    if (!file.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(pidDir, file), 'utf8').trim().split('\n')[0]);
    if (Number.isInteger(pid) && pid > 1 && processInfo(pid)?.cmdline.includes(marker)) pids.push(pid);
  }
  return pids;
}

export function removePidFile(pidDir: string, name: string): void {
  rmSync(join(pidDir, `${name}.pid`), { force: true });
}

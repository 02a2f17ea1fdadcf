// A throwaway PostgreSQL 15 cluster for tests: initdb into a fresh temp dir, run the postmaster on a free
// loopback port, hand back a URL. It lives with the reference service, which must stand alone (its tests
// need nothing outside reference-app but the PostgreSQL binaries); the harness's tests reuse it through
// testing/postgres.ts.
// PostgreSQL refuses to run as root, so when we are root the data dir is chowned to `postgres` and both
// initdb and the postmaster run under that uid/gid.
//
// The postmaster is started in its own process group so that kill() can take down the postmaster AND its
// backends at once (a real crash), and so that nothing outlives the test process: a synchronous 'exit'
// hook SIGKILLs every group still running even when the test runner dies mid-test.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync, openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_BIN_DIR = process.env.POSTGRES_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export interface PostgresHandle {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth, loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Fast shutdown, then remove the data dir. Idempotent; never leaves a process behind. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster and every backend (a crash); the data stays, restart() brings it back. */
  kill(): Promise<void>;
  /** Start again on the same port and data (after kill(), or a fast shutdown first when running). */
  restart(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** How long to wait for the server to accept connections (default 30 s). */
  readyTimeoutMs?: number;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
}

function runAsIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined; // not root: run as ourselves
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => { /* a refused probe is an answer, not a crash */ });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  installExitHook();
  const ids = runAsIds();
  // Short path: the unix socket lives in the data dir and socket paths are limited to ~107 bytes.
  const baseDir = mkdtempSync(join(tmpdir(), 'slo-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  if (ids) chownSync(baseDir, ids.uid, ids.gid);

  try {
    execFileSync(join(POSTGRES_BIN_DIR, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  } catch (err) {
    rmSync(baseDir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`initdb failed: ${stderr.trim()}`);
  }

  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    // Throwaway data: skipping fsync only matters if the OS crashes. synchronous_commit stays on, so a
    // commit acknowledged before kill() (a process crash) survives it, as tests of durability expect.
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  let child: ChildProcess | undefined;
  let removed = false;

  const launch = async (): Promise<void> => {
    const logFd = openSync(logFile, 'a');
    if (ids) chownSync(logFile, ids.uid, ids.gid);
    const proc = spawn(join(POSTGRES_BIN_DIR, 'postgres'), args, {
      stdio: ['ignore', logFd, logFd],
      detached: true, // own process group: kill(-pid) reaches every backend
      ...ids,
    });
    closeSync(logFd);
    child = proc;
    const pid = proc.pid;
    if (pid === undefined) throw new Error('postgres did not start (no pid)');
    liveGroups.add(pid);
    proc.once('exit', () => liveGroups.delete(pid));

    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`postgres exited during start (code ${proc.exitCode}, signal ${proc.signalCode}):\n${tail(logFile)}`);
      }
      if (await acceptsConnections(url)) return;
      await sleep(100);
    }
    await killGroup();
    throw new Error(`postgres did not accept connections within ${readyTimeoutMs} ms:\n${tail(logFile)}`);
  };

  const killGroup = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
    await waitForExit(proc, 10_000);
  };

  const fastShutdown = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    // SIGINT = "fast" shutdown: abort sessions, checkpoint, exit.
    try { process.kill(proc.pid, 'SIGINT'); } catch { /* gone */ }
    if (!(await waitForExit(proc, 10_000))) await killGroup();
    // Backends exit on their own once the postmaster is gone; make sure none lingers.
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* group empty: good */ }
  };

  try {
    await launch();
  } catch (err) {
    await killGroup();
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }

  return {
    url,
    port,
    dataDir,
    async stop() {
      await fastShutdown();
      if (!removed) {
        removed = true;
        rmSync(baseDir, { recursive: true, force: true });
      }
    },
    async kill() {
      await killGroup();
    },
    async restart() {
      if (removed) throw new Error('postgres was stopped and its data removed; start a new one');
      await fastShutdown();
      await launch();
    },
  };
}

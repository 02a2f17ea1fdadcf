// Runs the real entry point (`node --import tsx reference-app/src/server.ts`, from the repository root, the
// way `npm start` does) as a child process, and hands back its URL, its log lines and a
// way to wait for its exit. The service's own modules still resolve from reference-app/node_modules (Node
// looks next to the importing file first); only the tsx loader named by --import comes from the cwd.
// Or, given an entry, the compiled service the image runs (`node dist/server.mjs`, see test/built-service.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/postgres.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_ENTRY = 'reference-app/src/server.ts';

/** How to start the service: node's arguments and the folder to start it in. */
export interface ServerEntry { args: string[]; cwd: string }
/** The TypeScript sources under tsx, from the repository root (`npm start`). */
export const TSX_ENTRY: ServerEntry = { args: ['--import', 'tsx', SERVER_ENTRY], cwd: REPO_ROOT };

export interface ServerProcess {
  baseUrl: string;
  port: number;
  child: ChildProcess;
  stdoutLines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for afterAll. */
  kill(): Promise<void>;
}

export function spawnServerRaw(env: Record<string, string>, entry: ServerEntry = TSX_ENTRY): { child: ChildProcess; stdoutLines: string[]; stderr: () => string; exited: ServerProcess['exited'] } {
  const child = spawn(process.execPath, entry.args, {
    cwd: entry.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    stdoutLines.push(...lines.filter((l) => l.length > 0));
  });
  let stderrText = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderrText += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdoutLines, stderr: () => stderrText, exited };
}

export async function startServer(env: Record<string, string>, readyTimeoutMs = 30_000, entry: ServerEntry = TSX_ENTRY): Promise<ServerProcess> {
  const port = await freePort();
  const raw = spawnServerRaw({ HOST: '127.0.0.1', PORT: String(port), ...env }, entry);
  const baseUrl = `http://127.0.0.1:${port}`;
  const handle: ServerProcess = {
    ...raw,
    baseUrl,
    port,
    async kill() {
      if (raw.child.exitCode === null && raw.child.signalCode === null) {
        raw.child.kill('SIGKILL');
        await raw.exited;
      }
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  let exitedEarly = false;
  void raw.exited.then(() => { exitedEarly = true; });
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`server exited during start-up:\n${raw.stderr()}\n${raw.stdoutLines.join('\n')}`);
    try {
      const response = await fetch(`${baseUrl}/ready`);
      if (response.status === 200) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await handle.kill();
  throw new Error(`server did not become ready within ${readyTimeoutMs} ms:\n${raw.stderr()}`);
}

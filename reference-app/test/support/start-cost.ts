// What one start of the service costs in CPU, to ready: the TypeScript sources under tsx (cold cache, as
// in a fresh pod) against the compiled dist/ the image runs. Not a test; from reference-app/:
//   npm run build && node --import tsx test/support/start-cost.ts [runs=3]
// Each start runs against a throwaway PostgreSQL with NODE_ENV=production, tracing off and on (OTLP to a
// local receiver), polls /ready every 20 ms, and at the first 200 reads utime+stime of node and of every
// process under it from /proc, reaped children included; then SIGTERM. One unmeasured start first warms
// the page cache.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPostgres } from './postgres.ts';

const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
const TICKS = 100; // getconf CLK_TCK on Linux

function treeCpuTicks(pid: number): number {
  let total = 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11..14] = utime, stime, cutime, cstime (stat fields 14-17)
  total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) total += treeCpuTicks(Number(task));
  return total;
}

async function oneStart(args: string[], env: Record<string, string>): Promise<{ cpuS: number; wallS: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: APP_DIR, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DRAIN_DELAY_MS: '0', ...env }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode}`);
      const status = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0);
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const wallS = (performance.now() - started) / 1000;
    return { cpuS: treeCpuTicks(child.pid as number) / TICKS, wallS };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const runs = Number(process.argv[2] ?? 3);
if (!existsSync(join(APP_DIR, 'dist', 'server.mjs'))) throw new Error('no dist/server.mjs: npm run build first');
const db = await startPostgres();
const receiver = createServer((request, response) => { request.resume().on('end', () => response.writeHead(200).end('{}')); });
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const otlp = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
try {
  const entries: [string, string[], Record<string, string>][] = [
    ['tsx (cold cache)', ['--import', 'tsx', 'src/server.ts'], { TSX_DISABLE_CACHE: '1' }],
    ['bundle', ['dist/server.mjs'], {}],
  ];
  for (const tracing of [false, true]) {
    for (const [name, args, extra] of entries) {
      const env = { DATABASE_URL: db.url, ...extra, ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp } : {}) };
      await oneStart(args, env); // warm the page cache; not counted
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await oneStart(args, env));
      const cpu = results.map((r) => r.cpuS.toFixed(2)).join(' / ');
      const wall = results.map((r) => r.wallS.toFixed(2)).join(' / ');
      const mean = results.reduce((a, r) => a + r.cpuS, 0) / results.length;
      console.log(`${name.padEnd(18)} tracing ${tracing ? 'on ' : 'off'}  CPU s ${cpu}  (mean ${mean.toFixed(2)})  wall s to ready ${wall}`);
    }
  }
} finally {
  receiver.close();
  await db.stop();
}

// Reference service overhead: requests/s of /health and /api/items/:id on the real service (Fastify,
// metrics hooks, schema validation, identity headers, pg pool) versus a bare node:http server doing the
// same work (same pg query, same pool size), measured side by side in one run with the same load tool
// (autocannon), reported as a ratio (goal >= 0.85), plus p99 latency of both at a fixed moderate rate.
//
//   npx tsx bench/reference-app.ts            # ~1 minute; prints a markdown section for bench/RESULTS.md
//
// The bare server is this same file started with `--bare-server` in its own process, so both servers get
// a process (and the same CPU) of their own and the load generator runs in a third one.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, startPostgres, type PostgresHandle } from '../testing/postgres.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const POOL_MAX = 10;
const CONNECTIONS = 16;
const WARMUP_S = 2;
// The machine is shared: several short interleaved rounds (bare, reference, bare, ...) and the median of
// each server's rounds resist a neighbour's burst far better than one long run per server.
const ROUNDS = 3;
const ROUND_S = 3;
const FIXED_RATE = 300; // requests/s for the latency comparison: moderate, well under both maxima
const FIXED_RATE_S = 5;

// ---------------------------------------------------------------------------------------------------
// The bare server: node:http + pg, nothing else.
async function runBareServer(): Promise<void> {
  const port = Number(process.env.PORT);
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: POOL_MAX });
  pool.on('error', () => undefined);
  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/health') return send(res, 200, { status: 'ok' });
    const match = /^\/api\/items\/(\d+)$/.exec(url);
    if (!match) return send(res, 404, { error: 'not_found' });
    pool.query<{ id: number; name: string; price_cents: number }>('SELECT id, name, price_cents FROM items WHERE id = $1', [Number(match[1])])
      .then(({ rows }) => {
        const row = rows[0];
        if (!row) return send(res, 404, { error: 'not_found' });
        send(res, 200, { id: row.id, name: row.name, priceCents: row.price_cents });
      })
      .catch(() => send(res, 503, { error: 'database_unavailable' }));
  });
  server.keepAliveTimeout = 72_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------------
// The measurement.
interface Target {
  name: string;
  baseUrl: string;
  child: ChildProcess;
}

async function waitForOk(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

async function startTarget(name: string, args: string[], env: Record<string, string>, readyPath: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForOk(`${baseUrl}${readyPath}`, child);
  return { name, baseUrl, child };
}

function itemPath(): string {
  return `/api/items/${1 + Math.floor(Math.random() * 1000)}`;
}

interface Measured {
  rps: number;
  p99Ms: number;
  p50Ms: number;
  non2xx: number;
  errors: number;
}

async function measure(baseUrl: string, path: string, seconds: number, overallRate?: number): Promise<Measured> {
  const result = await autocannon({
    url: baseUrl,
    connections: overallRate ? 8 : CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: path === 'items' ? itemPath() : path }) }],
  });
  return {
    rps: result.requests.total / result.duration,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The round with the median requests/s (errors summed over all rounds). */
function median(rounds: Measured[]): Measured {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no rounds measured');
  return { ...middle, non2xx: rounds.reduce((n, r) => n + r.non2xx, 0), errors: rounds.reduce((n, r) => n + r.errors, 0) };
}

async function stopTarget(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return;
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  const timer = setTimeout(() => target.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function runBench(): Promise<void> {
  let db: PostgresHandle | undefined;
  const targets: Target[] = [];
  try {
    db = await startPostgres();
    // The reference service first: its migration creates and seeds the items the bare server reads.
    const reference = await startTarget('reference', ['reference-app/src/server.ts'],
      { DATABASE_URL: db.url, DB_POOL_MAX: String(POOL_MAX), DRAIN_DELAY_MS: '0', LOG_LEVEL: 'info' }, '/ready');
    targets.push(reference);
    const bare = await startTarget('bare', [THIS_FILE, '--bare-server'], { DATABASE_URL: db.url }, '/health');
    targets.push(bare);

    const rows: string[] = [];
    const ratios: Record<string, number> = {};
    for (const path of ['/health', 'items']) {
      const label = path === 'items' ? '/api/items/:id' : path;
      const rounds: Record<string, Measured[]> = { bare: [], reference: [] };
      for (const target of [bare, reference]) await measure(target.baseUrl, path, WARMUP_S);
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first so neither server always runs right after the other's burst.
        const order = round % 2 === 0 ? [bare, reference] : [reference, bare];
        for (const target of order) rounds[target.name]?.push(await measure(target.baseUrl, path, ROUND_S));
      }
      const results = { bare: median(rounds.bare ?? []), reference: median(rounds.reference ?? []) };
      process.stderr.write(`${label}: bare ${(rounds.bare ?? []).map((m) => m.rps.toFixed(0)).join(', ')}; reference ${(rounds.reference ?? []).map((m) => m.rps.toFixed(0)).join(', ')} req/s\n`);
      const ref = results.reference as Measured;
      const base = results.bare as Measured;
      ratios[label] = ref.rps / base.rps;
      rows.push(`| ${label} | ${base.rps.toFixed(0)} | ${ref.rps.toFixed(0)} | **${ratios[label]?.toFixed(2)}** | ${base.non2xx + base.errors} / ${ref.non2xx + ref.errors} |`);
    }

    const latencyRows: string[] = [];
    for (const target of [bare, reference]) {
      const fixed = await measure(target.baseUrl, 'items', FIXED_RATE_S, FIXED_RATE);
      latencyRows.push(`| ${target.name} | ${fixed.rps.toFixed(0)} | ${fixed.p50Ms} | ${fixed.p99Ms} | ${fixed.non2xx + fixed.errors} |`);
    }

    const lines = [
      '## Reference service',
      '',
      'Command: `npx tsx bench/reference-app.ts` (about one minute). Both servers run in their own process on',
      `the same throwaway PostgreSQL 15 with a pool of ${POOL_MAX}; autocannon runs in a third process with ${CONNECTIONS} keep-alive`,
      `connections; per endpoint ${WARMUP_S} s warm-up each, then ${ROUNDS} interleaved rounds of ${ROUND_S} s per server, median round`,
      'reported; the bare server is `node:http` + `pg` doing the same',
      'query (see `runBareServer` in the script). The reference service runs with its production defaults (info',
      'logging, metrics hooks, schema validation, identity headers, readiness probe), tracing off.',
      `Machine: ${cpus().length} cores shared with other test runs (load average ${loadavg()[0]?.toFixed(1)} at the end), Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| endpoint | bare node:http req/s | reference req/s | ratio (goal >= 0.85) | failed (bare / reference) |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `p99 at a fixed ${FIXED_RATE} requests/s of \`/api/items/:id\` for ${FIXED_RATE_S} s (8 connections):`,
      '',
      '| server | achieved req/s | p50 ms | p99 ms | failed |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...latencyRows,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const target of targets) await stopTarget(target);
    await db?.stop();
  }
}

if (process.argv.includes('--bare-server')) await runBareServer();
else await runBench();

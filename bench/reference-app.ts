// Reference service overhead: the service as its image runs it (`node dist/server.mjs`, the esbuild bundle
// of reference-app/build.ts, NODE_ENV=production; Fastify, metrics, schema validation, identity headers,
// readiness, pg pool, pino) against a bare node:http + pg server doing the same work (same query, same pool
// size). Tracing is measured the ways the service runs: on, as every run of the harness deploys it (OTLP/JSON
// to a receiver, here a sink in the bench process that counts the spans; head sampling at the spec's
// default traceSampleRatio, harness/observability/service-telemetry.ts), every request traced (ratio 1, a
// team that samples nothing away), and off (no OTLP endpoint: the image's default).
//
//   npx tsx bench/reference-app.ts              # ~7 minutes; prints the tables of bench/RESULTS.md
//   npx tsx bench/reference-app.ts --profile    # ~1.5 minutes; CPU profile, loop delay and GC at the fixed rate
//   flags: --rounds 7 --round-s 4 --warmup-s 2 --rate 300 --rate-rounds 6 --rate-s 15 --pipelining 1 --no-pin
//          --tracing on,off (which ways to run the service, of on, all, off; each is a server of its own in
//          the rotation)
//          --app <a reference-app folder> (default reference-app/; built into a temp folder, as the image does)
//          --before <an earlier reference-app folder>: built the same way and measured in the same interleaved
//          rounds, once per --tracing mode (bare, before, after, then after, before, bare, ...), so a change
//          is judged against the same seconds of the machine rather than against another run
//          --keep (keep profiles)
//
// 1. Throughput: /health and /api/items/:id with autocannon (16 keep-alive connections, closed loop), in
//    interleaved rounds (bare, reference, then reference, bare, ...). Each reference round is paired with the
//    bare round next to it in time; the spread of those paired ratios (min / median / max) shows whether a
//    difference is the service's or a neighbour's burst. Each round also records the CPU time each server,
//    the load generator and PostgreSQL used (from /proc): the servers' CPU time per request gives the
//    server-bound capacity ratio, which does not depend on which process ran out of CPU first, and the
//    table says which one did. On two cores the generator (with PostgreSQL) fills its core before either
//    server fills its own, so there req/s measures the generator side and CPU per request the service.
// 2. Tail latency at a fixed rate: an open-loop generator sends at exactly --rate requests/s whatever the
//    server does and measures each request from the moment it was due (no coordinated omission), with
//    microsecond resolution, interleaved rounds again; thousands of samples per server.
// 3. --profile: each server alone at the fixed rate with V8's sampling profiler (what `node --cpu-prof`
//    runs, here started and stopped around the load window only), a 1 ms-resolution
//    `monitorEventLoopDelay` histogram and every GC pause; prints where the CPU time went.
//
// Where the machine has two cores or more and `taskset` exists, every server is pinned to CPU 0 and the
// load generator, the trace sink and PostgreSQL to CPU 1, so the generator never competes with the server
// it measures. The bare server is this same file started with `--bare-server` in its own process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildService, ENTRY_FILE } from '../reference-app/build.ts';
import { freePort, startPostgres, type PostgresHandle } from '../testing/postgres.ts';
import { defaultSpec } from '../contract/spec.ts';
import { serviceTelemetryEnv } from '../harness/observability/service-telemetry.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const POOL_MAX = 10;
const REFERENCE_APP = 'reference-app';
const CONNECTIONS = 16;
const SERVER_CPU = 0;
const GENERATOR_CPU = 1;

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
// Processes, pinning and CPU accounting.
interface Target {
  /** 'bare', or the build and its tracing mode, e.g. 'reference, tracing on' / 'before, tracing on'. */
  name: string;
  baseUrl: string;
  child: ChildProcess;
  pid: number;
}

function canPin(): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pin every thread of `pid` (and the children it forks later) to `cpu`. */
function pinProcess(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds of PostgreSQL: the postmaster and every backend it forked (the servers' connections), the
 * ended ones included: the postmaster reaps its backends, so theirs is in its cutime/cstime. Without those a
 * pool's idle connections closing during a round (10 s after the previous server's round) took their whole
 * CPU out of the sum, and most rounds read 0.
 */
function postgresCpuSeconds(postmaster: number | undefined): number {
  if (postmaster === undefined) return 0;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(entry) === postmaster) total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
      else if (Number(fields[1]) === postmaster) total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}

/** Our own CPU seconds (the load generator's). */
function selfCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
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

function withoutOtel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('OTEL_')));
}

async function startTarget(name: string, nodeArgs: string[], env: Record<string, string>, readyPath: string, pin: boolean, cwd = REPO_ROOT): Promise<Target> {
  const port = await freePort();
  const argv = [process.execPath, ...nodeArgs];
  // taskset execs node in place, so the child's pid is node's pid.
  const [command, ...args] = pin ? ['taskset', '-c', String(SERVER_CPU), ...argv] : argv;
  const child = spawn(command as string, args, {
    cwd,
    // The bench's own OTEL_* variables (if any) never reach a server: each says for itself whether it traces.
    env: { ...withoutOtel(process.env), PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForOk(`${baseUrl}${readyPath}`, child);
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  return { name, baseUrl, child, pid: child.pid };
}

async function stopTarget(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return;
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  const timer = setTimeout(() => target.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------
// The service as its image runs it, and the receiver of its traces.

/** A reference-app folder compiled into a temp folder laid out like the image's /app. */
interface Bundle {
  /** The temp folder: package.json, node_modules (a link to the app's own), dist/. */
  root: string;
  remove(): void;
}

/**
 * build.ts's build of `appDir` into a temp folder with a package.json copy and a link to node_modules, so
 * the bundle's external imports resolve as in the image; started as `node dist/server.mjs` from there.
 */
async function buildBundle(appDir: string): Promise<Bundle> {
  const root = mkdtempSync(join(tmpdir(), 'slo-bench-bundle-'));
  try {
    await buildService({ appDir, outdir: join(root, 'dist') });
    copyFileSync(join(appDir, 'package.json'), join(root, 'package.json'));
    // An earlier build copied without its node_modules runs on the current one's packages.
    const modules = existsSync(join(appDir, 'node_modules')) ? join(appDir, 'node_modules') : join(REPO_ROOT, REFERENCE_APP, 'node_modules');
    symlinkSync(modules, join(root, 'node_modules'), 'dir');
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** An OTLP/HTTP receiver that answers at once and counts what arrives (no decoding beyond a span count). */
interface TraceSink {
  url: string;
  /** Spans received so far, per service instance (INSTANCE_ID names the server). */
  spans(instance: string): number;
  close(): Promise<void>;
}

async function startTraceSink(): Promise<TraceSink> {
  const spans = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // The servers run with OTEL_EXPORTER_OTLP_PROTOCOL=http/json, as the harness starts them: one
      // "spanId" key per span (parentSpanId is spelled differently), and the instance id in the resource.
      const instance = /"service\.instance\.id","value":\{"stringValue":"([^"]*)"/.exec(body)?.[1] ?? 'unknown';
      let count = 0;
      for (let at = body.indexOf('"spanId":'); at !== -1; at = body.indexOf('"spanId":', at + 9)) count++;
      spans.set(instance, (spans.get(instance) ?? 0) + count);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans: (instance) => spans.get(instance) ?? 0,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// 1. Throughput rounds.
function itemPath(): string {
  return `/api/items/${1 + Math.floor(Math.random() * 1000)}`;
}

interface Round {
  rps: number;
  /** Server CPU microseconds per request. */
  cpuUsPerRequest: number;
  /** Share of one core the server used. */
  serverCpu: number;
  /** Share of one core the load generator (this process) used. */
  generatorCpu: number;
  /** Share of one core PostgreSQL used. */
  postgresCpu: number;
  failed: number;
}

let postmaster: number | undefined;

async function throughputRound(target: Target, path: string, seconds: number, pipelining: number): Promise<Round> {
  const serverBefore = cpuSeconds(target.pid);
  const selfBefore = selfCpuSeconds();
  const postgresBefore = postgresCpuSeconds(postmaster);
  const result = await autocannon({
    url: target.baseUrl,
    connections: CONNECTIONS,
    pipelining,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: path === 'items' ? itemPath() : path }) }],
  });
  const serverCpu = cpuSeconds(target.pid) - serverBefore;
  const total = result.requests.total;
  return {
    rps: total / result.duration,
    cpuUsPerRequest: total > 0 ? (serverCpu / total) * 1e6 : Number.NaN,
    serverCpu: serverCpu / result.duration,
    generatorCpu: (selfCpuSeconds() - selfBefore) / result.duration,
    postgresCpu: Math.max(0, postgresCpuSeconds(postmaster) - postgresBefore) / result.duration,
    failed: result.non2xx + result.errors,
  };
}

// ---------------------------------------------------------------------------------------------------
// 2. Open-loop fixed rate.
interface LatencyRun {
  /** Milliseconds from the moment each request was due to its last response byte. */
  latenciesMs: number[];
  sent: number;
  failed: number;
  seconds: number;
  cpuUsPerRequest: number;
}

async function fixedRate(target: Target, rate: number, seconds: number): Promise<LatencyRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latenciesMs: number[] = [];
  let failed = 0;
  let outstanding = 0;
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const serverBefore = cpuSeconds(target.pid);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const finishOne = (dueAt: number, ok: boolean): void => {
      outstanding--;
      if (ok) latenciesMs.push(performance.now() - dueAt);
      else failed++;
      if (sent === total && outstanding === 0) resolve();
    };
    const send = (dueAt: number): void => {
      outstanding++;
      const request = http.get(`${target.baseUrl}${itemPath()}`, { agent }, (response) => {
        response.resume();
        response.once('end', () => finishOne(dueAt, response.statusCode === 200));
        response.once('error', () => finishOne(dueAt, false));
      });
      request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
      request.once('error', () => finishOne(dueAt, false));
    };
    // Timer ticks every millisecond or so; each sends what has come due since the last, stamped with the
    // time it was due, so a late tick (or a stalled server) shows up as latency, not as fewer requests.
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) send(start + sent++ * intervalMs);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsedS = (performance.now() - start) / 1000;
  const serverCpu = cpuSeconds(target.pid) - serverBefore;
  agent.destroy();
  return { latenciesMs, sent, failed, seconds: elapsedS, cpuUsPerRequest: (serverCpu / total) * 1e6 };
}

/** Which side held the closed-loop rounds back: a core we use that is (nearly) full, or neither of ours. */
function limitedBy(rounds: Round[], pin: boolean): string {
  const server = medianOf(rounds.map((r) => r.serverCpu));
  const generatorSide = medianOf(rounds.map((r) => r.generatorCpu + (pin ? r.postgresCpu : 0)));
  if (server >= 0.9) return `the server (${(server * 100).toFixed(0)} % of its core)`;
  if (pin && generatorSide >= 0.85) return `CPU ${GENERATOR_CPU}: load generator + PostgreSQL (${(generatorSide * 100).toFixed(0)} %)`;
  return `no core of ours full (server ${(server * 100).toFixed(0)} %, CPU ${GENERATOR_CPU} ${(generatorSide * 100).toFixed(0)} %): other processes`;
}

function percentile(sortedAscending: number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const index = Math.min(sortedAscending.length - 1, Math.ceil((p / 100) * sortedAscending.length) - 1);
  return sortedAscending[Math.max(0, index)] as number;
}

function medianOf(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

function spread(values: number[], digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${(sorted[0] ?? Number.NaN).toFixed(digits)} / **${percentile(sorted, 50).toFixed(digits)}** / ${(sorted.at(-1) ?? Number.NaN).toFixed(digits)}`;
}

// ---------------------------------------------------------------------------------------------------
// 3. Profile: where the CPU time goes, and how long the event loop waits.
// Preloaded into a server for --profile (a data: URL, so the service needs no bench code of its own). The
// first SIGUSR2 resets the loop-delay histogram and starts the V8 sampling profiler, the second stops both
// and writes them next to PROFILE_OUT, so start-up and shutdown stay out of what is measured.
const PROFILE_PRELOAD = `data:text/javascript,${encodeURIComponent(`
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const out = process.env.PROFILE_OUT;
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const gc = { count: 0, major: 0, totalMs: 0, maxMs: 0 };
let recording = false;
new PerformanceObserver((list) => {
  if (!recording) return;
  for (const entry of list.getEntries()) {
    gc.count++;
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
const session = new Session();
session.connect();
let phase = 0;
process.on('SIGUSR2', () => {
  if (phase === 0) {
    phase = 1;
    recording = true;
    loop.reset();
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')));
  } else if (phase === 1) {
    phase = 2;
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    recording = false;
    const round = (x) => Math.round(x * 100) / 100;
    const delays = { count: loop.count, mean: ms(loop.mean), p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), p999: ms(loop.percentile(99.9)), max: ms(loop.max),
      gcCount: gc.count, gcMajor: gc.major, gcTotalMs: round(gc.totalMs), gcMaxMs: round(gc.maxMs), heapUsedMb: round(process.memoryUsage().heapUsed / 1e6) };
    session.post('Profiler.stop', (err, result) => {
      writeFileSync(out + '.cpuprofile', JSON.stringify(err ? {} : result.profile));
      writeFileSync(out + '.loop.json', JSON.stringify(delays));
    });
  }
});
`)}`;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

function categoryOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)' || functionName === '(root)') return 'V8 / native (program)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) {
    const pkg = nm[1];
    if (/^(pg|pg-pool|pg-protocol|pg-types|pgpass|pg-connection-string|postgres-.*)$/.test(pkg)) return 'pg';
    if (/^(fastify|@fastify\/.*|find-my-way|light-my-request|avvio|fast-json-stringify|ajv.*|fast-uri|@fastify\/ajv-compiler)$/.test(pkg)) return 'fastify (router, hooks, ajv, serializer)';
    if (/^(pino|sonic-boom|thread-stream|pino-std-serializers|fast-redact|on-exit-leak-free|atomic-sleep|quick-format-unescaped|safe-stable-stringify)$/.test(pkg)) return 'pino';
    if (/^(prom-client|tdigest|bintrees)$/.test(pkg)) return 'prom-client';
    if (pkg.startsWith('@opentelemetry') || pkg === 'import-in-the-middle' || pkg === 'require-in-the-middle') return 'opentelemetry';
    if (pkg === 'tsx' || pkg === 'esbuild') return 'tsx';
    return `other package (${pkg})`;
  }
  if (url.includes('/reference-app/src/')) return 'service code (reference-app/src)';
  if (url.includes('/bench/')) return 'bench bare server code';
  if (url.startsWith('node:')) return `node:${/^node:(?:internal\/)?([^/]+)/.exec(url)?.[1] ?? '?'}`;
  if (url === '') return 'native / builtins';
  return 'other';
}

function summarizeProfile(file: string): { categories: [string, number][]; functions: [string, number][]; totalMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // The profiler's own work (the inspector session serialising the profile, the preload) is not the server's.
  const measuring = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      if (url.startsWith('node:inspector') || url.startsWith('data:')) return true;
    }
    return false;
  };
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!measuring(id)) selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const category = categoryOf(url, functionName);
    categories.set(category, (categories.get(category) ?? 0) + ms);
    if (category !== 'idle') {
      const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(reference-app|bench)\//, '$1/');
      const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
      functions.set(key, (functions.get(key) ?? 0) + ms);
      totalMs += ms;
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { categories: sorted(categories).filter(([c]) => c !== 'idle'), functions: sorted(functions).slice(0, 15), totalMs };
}

async function waitForFile(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} was not written within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the write finish
}

/** One server of the rotation, started the same way for the rounds and for --profile. */
interface ServerSpec {
  name: string;
  /** Whether it exports traces (its INSTANCE_ID then names it to the sink). */
  traced: boolean;
  instanceId: string;
  start(pin: boolean, nodeArgs?: string[], env?: Record<string, string>): Promise<Target>;
}

function bareSpec(db: PostgresHandle): ServerSpec {
  return {
    name: 'bare',
    traced: false,
    instanceId: 'bare',
    start: (pin, nodeArgs = [], env = {}) => startTarget('bare', [...nodeArgs, '--import', 'tsx', THIS_FILE, '--bare-server'], { DATABASE_URL: db.url, ...env }, '/health', pin),
  };
}

/** on: as the harness deploys the service (the spec's default sampling ratio); all: every request traced. */
type TracingMode = 'on' | 'all' | 'off';
const TRACING_MODES: readonly TracingMode[] = ['on', 'all', 'off'];

function referenceSpec(build: 'reference' | 'before', bundle: Bundle, tracing: TracingMode, db: PostgresHandle, sink: TraceSink): ServerSpec {
  const ratio = tracing === 'all' ? 1 : defaultSpec().slos.observability.traceSampleRatio;
  const name = `${build}, tracing ${tracing === 'off' ? 'off' : `on (${ratio === 1 ? 'every request' : `${ratio * 100} %`})`}`;
  const instanceId = `bench-${build}-tracing-${tracing}`;
  // The image's environment (NODE_ENV=production) and what the harness adds when it deploys the service:
  // info logging, readiness probe every second, and (tracing on) OTLP/JSON to its receiver.
  const env: Record<string, string> = {
    DATABASE_URL: db.url, DB_POOL_MAX: String(POOL_MAX), DRAIN_DELAY_MS: '0', LOG_LEVEL: 'info', NODE_ENV: 'production',
    APP_VERSION: 'bench', INSTANCE_ID: instanceId,
    ...(tracing === 'off' ? {} : serviceTelemetryEnv(sink.url, ratio)),
  };
  return {
    name,
    traced: tracing !== 'off',
    instanceId,
    start: (pin, nodeArgs = [], extra = {}) => startTarget(name, [...nodeArgs, `dist/${ENTRY_FILE}`], { ...env, ...extra }, '/ready', pin, bundle.root),
  };
}

async function runProfile(specs: ServerSpec[], options: BenchOptions, pin: boolean): Promise<string[]> {
  const lines: string[] = ['## Reference service: profile at the fixed rate', ''];
  for (const spec of specs) {
    const dir = mkdtempSync(join(tmpdir(), `slo-bench-prof-${spec.instanceId}-`));
    const out = join(dir, spec.instanceId);
    const target = await spec.start(pin, ['--import', PROFILE_PRELOAD], { PROFILE_OUT: out });
    try {
      await fixedRate(target, options.rate, 3); // warm-up (JIT), not profiled
      target.child.kill('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const run = await fixedRate(target, options.rate, options.profileS);
      target.child.kill('SIGUSR2');
      await waitForFile(`${out}.loop.json`);
      const sorted = [...run.latenciesMs].sort((a, b) => a - b);
      const loop = JSON.parse(readFileSync(`${out}.loop.json`, 'utf8')) as Record<string, number>;
      const summary = summarizeProfile(`${out}.cpuprofile`);
      lines.push(`### ${spec.name}: ${options.rate} requests/s of /api/items/:id for ${options.profileS} s (after a 3 s warm-up)`, '',
        `Latency p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${(sorted.at(-1) ?? 0).toFixed(2)} ms ` +
        `(${sorted.length} requests); server CPU ${run.cpuUsPerRequest.toFixed(0)} us/request under the profiler. ` +
        `Event-loop delay (monitorEventLoopDelay, 1 ms resolution): p50 ${loop.p50} ms, p99 ${loop.p99} ms, p99.9 ${loop.p999} ms, ` +
        `max ${loop.max} ms over ${loop.count} samples. Garbage collection in the window: ${loop.gcCount} pauses (${loop.gcMajor} major), ` +
        `${loop.gcTotalMs} ms in all, longest ${loop.gcMaxMs} ms; heap in use at the end ${loop.heapUsedMb} MB.`, '',
        `CPU profile (250 us sampling): ${summary.totalMs.toFixed(0)} ms busy in ${options.profileS} s.`, '',
        '| where (self time) | ms | share of busy |', '| --- | ---: | ---: |',
        ...summary.categories.slice(0, 14).map(([c, ms]) => `| ${c} | ${ms.toFixed(0)} | ${((ms / summary.totalMs) * 100).toFixed(1)} % |`), '',
        '| top functions (self time) | ms |', '| --- | ---: |',
        ...summary.functions.map(([f, ms]) => `| \`${f.replace(/\|/g, '\\|')}\` | ${ms.toFixed(1)} |`), '');
      if (options.keep) lines.push(`Profile kept in ${dir}.`, '');
    } finally {
      await stopTarget(target);
      if (!options.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// The measurement.
interface BenchOptions {
  rounds: number;
  roundS: number;
  warmupS: number;
  rate: number;
  rateRounds: number;
  rateS: number;
  profile: boolean;
  profileS: number;
  pin: boolean;
  keep: boolean;
  /** The reference-app folder to measure (another checkout to compare), relative to the repository root. */
  app: string;
  /** An earlier reference-app folder, measured in the same interleaved rounds (before / after). */
  before: string | undefined;
  /** Which ways to run the service: tracing on (as the harness deploys it), all (every request), off (the image's default). */
  tracing: TracingMode[];
  pipelining: number;
}

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      'round-s': { type: 'string', default: '4' },
      'warmup-s': { type: 'string', default: '2' },
      rate: { type: 'string', default: '300' },
      'rate-rounds': { type: 'string', default: '6' },
      'rate-s': { type: 'string', default: '15' },
      profile: { type: 'boolean', default: false },
      'profile-s': { type: 'string', default: '20' },
      'no-pin': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      app: { type: 'string', default: REFERENCE_APP },
      before: { type: 'string' },
      tracing: { type: 'string', default: 'on,off' },
      pipelining: { type: 'string', default: '1' },
      'bare-server': { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
    return value;
  };
  const tracing = values.tracing.split(',').map((mode) => {
    const known = TRACING_MODES.find((m) => m === mode);
    if (!known) throw new Error(`--tracing takes a comma-separated list of on, all and off; got ${JSON.stringify(values.tracing)}`);
    return known;
  });
  return {
    rounds: positive('rounds', values.rounds),
    roundS: positive('round-s', values['round-s']),
    warmupS: positive('warmup-s', values['warmup-s']),
    rate: positive('rate', values.rate),
    rateRounds: positive('rate-rounds', values['rate-rounds']),
    rateS: positive('rate-s', values['rate-s']),
    profile: values.profile,
    profileS: positive('profile-s', values['profile-s']),
    pin: !values['no-pin'],
    keep: values.keep,
    app: values.app,
    before: values.before,
    tracing: [...new Set(tracing)],
    pipelining: positive('pipelining', values.pipelining),
  };
}

function postmasterPid(db: PostgresHandle): number {
  return Number(readFileSync(join(db.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

async function runBench(): Promise<void> {
  const options = parseOptions();
  const pin = options.pin && canPin();
  const began = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  let db: PostgresHandle | undefined;
  let sink: TraceSink | undefined;
  const bundles: Bundle[] = [];
  const targets: Target[] = [];
  try {
    // Built before anything is pinned or measured: the image builds once, and so does the bench.
    const after = await buildBundle(resolvePath(REPO_ROOT, options.app));
    bundles.push(after);
    const beforeBundle = options.before === undefined ? undefined : await buildBundle(resolvePath(REPO_ROOT, options.before));
    if (beforeBundle) bundles.push(beforeBundle);
    db = await startPostgres();
    postmaster = postmasterPid(db);
    sink = await startTraceSink();
    if (pin) {
      // PostgreSQL forks a backend per connection; backends inherit the postmaster's CPU. The trace sink
      // runs in this process, so it shares CPU 1 with the load generator, as the harness's receiver would
      // share a node with its load.
      pinProcess(postmaster, GENERATOR_CPU);
      pinProcess(process.pid, GENERATOR_CPU);
    }
    const bare = bareSpec(db);
    const builds: ServerSpec[] = [];
    for (const tracing of options.tracing) {
      if (beforeBundle) builds.push(referenceSpec('before', beforeBundle, tracing, db, sink));
      builds.push(referenceSpec('reference', after, tracing, db, sink));
    }
    process.stderr.write(`servers on CPU ${pin ? SERVER_CPU : 'any'}, load generator + PostgreSQL + trace sink on CPU ${pin ? GENERATOR_CPU : 'any'}` +
      `${pin ? ' (taskset)' : ' (not pinned)'}; measuring: bare, ${builds.map((b) => b.name).join('; ')}\n`);
    if (options.profile) {
      // The reference service's migration creates and seeds the items the bare server reads.
      const seed = await builds[0]!.start(pin);
      await stopTarget(seed);
      process.stdout.write(`${(await runProfile([bare, ...builds], options, pin)).join('\n')}\n`);
      return;
    }

    // The references first: their migration creates and seeds the items the bare server reads.
    const started = new Map<string, Target>();
    for (const spec of [...builds, bare]) {
      const target = await spec.start(pin);
      targets.push(target);
      started.set(spec.name, target);
    }
    const rotation = [bare, ...builds].map((spec) => started.get(spec.name) as Target);

    const rows: string[] = [];
    const detail: string[] = [];
    for (const path of ['/health', 'items']) {
      const label = path === 'items' ? '/api/items/:id' : path;
      for (const target of rotation) await throughputRound(target, path, options.warmupS, options.pipelining);
      const rounds = new Map<string, Round[]>(rotation.map((t) => [t.name, []]));
      for (let round = 0; round < options.rounds; round++) {
        // Alternate the order so no server always runs right after another's burst.
        const order = round % 2 === 0 ? rotation : [...rotation].reverse();
        for (const target of order) rounds.get(target.name)?.push(await throughputRound(target, path, options.roundS, options.pipelining));
        process.stderr.write(`${label}: round ${round + 1}/${options.rounds}\n`);
      }
      const bareRounds = rounds.get('bare') ?? [];
      for (const build of builds) {
        const mine = rounds.get(build.name) ?? [];
        const ratios = mine.map((r, i) => r.rps / (bareRounds[i]?.rps ?? Number.NaN));
        const cpuRatios = mine.map((r, i) => (bareRounds[i]?.cpuUsPerRequest ?? Number.NaN) / r.cpuUsPerRequest);
        const failed = [...bareRounds, ...mine].reduce((n, r) => n + r.failed, 0);
        rows.push(`| ${label} | ${build.name} | ${medianOf(bareRounds.map((r) => r.rps)).toFixed(0)} | ${medianOf(mine.map((r) => r.rps)).toFixed(0)} | ${spread(ratios)} | ` +
          `${medianOf(bareRounds.map((r) => r.cpuUsPerRequest)).toFixed(1)} / ${medianOf(mine.map((r) => r.cpuUsPerRequest)).toFixed(1)} | ${spread(cpuRatios)} | ${failed} |`);
        process.stderr.write(`${label} (${build.name}): ratio ${spread(ratios)}, capacity ${spread(cpuRatios)}\n`);
      }
      for (const target of rotation) {
        const rs = rounds.get(target.name) ?? [];
        detail.push(`| ${label} | ${target.name} | ${rs.map((r) => r.rps.toFixed(0)).join(', ')} | ` +
          `${spread(rs.map((r) => r.serverCpu))} | ${spread(rs.map((r) => r.generatorCpu))} | ${spread(rs.map((r) => r.postgresCpu))} | ${limitedBy(rs, pin)} |`);
      }
    }

    // Tail latency at a fixed rate: warm all up, then interleaved rounds.
    for (const target of rotation) await fixedRate(target, options.rate, 2);
    const spansBefore = new Map(builds.map((b) => [b.name, sink?.spans(b.instanceId) ?? 0]));
    const latency = new Map<string, LatencyRun[]>(rotation.map((t) => [t.name, []]));
    for (let round = 0; round < options.rateRounds; round++) {
      const order = round % 2 === 0 ? rotation : [...rotation].reverse();
      for (const target of order) latency.get(target.name)?.push(await fixedRate(target, options.rate, options.rateS));
      process.stderr.write(`fixed rate: round ${round + 1}/${options.rateRounds}\n`);
    }
    // Stopping flushes what each traced server still holds (its SIGTERM path shuts the SDK down).
    for (const target of targets.splice(0)) await stopTarget(target);

    const latencyRows: string[] = [];
    const pooledP99 = new Map<string, number>();
    const roundP99 = (run: LatencyRun | undefined): number => percentile([...(run?.latenciesMs ?? [])].sort((a, b) => a - b), 99);
    const bareLatency = latency.get('bare') ?? [];
    for (const target of rotation) {
      const runs = latency.get(target.name) ?? [];
      const pooled = runs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
      pooledP99.set(target.name, percentile(pooled, 99));
      const achieved = runs.reduce((n, r) => n + r.sent, 0) / runs.reduce((s, r) => s + r.seconds, 0);
      latencyRows.push(`| ${target.name} | ${pooled.length} | ${achieved.toFixed(0)} | ${percentile(pooled, 50).toFixed(2)} | **${percentile(pooled, 99).toFixed(2)}** | ` +
        `${spread(runs.map(roundP99))} | ${percentile(pooled, 99.9).toFixed(2)} | ${(pooled.at(-1) ?? 0).toFixed(1)} | ${medianOf(runs.map((r) => r.cpuUsPerRequest)).toFixed(0)} | ${runs.reduce((n, r) => n + r.failed, 0)} |`);
    }
    const p99Lines = builds.map((build) => {
      const ratio = (pooledP99.get(build.name) ?? Number.NaN) / (pooledP99.get('bare') ?? Number.NaN);
      const perRound = (latency.get(build.name) ?? []).map((r, i) => roundP99(r) / roundP99(bareLatency[i]));
      return `${build.name} / bare p99 = **${ratio.toFixed(2)}** (goal <= 1.5; per round ${spread(perRound)})`;
    });
    const traceLines = builds.filter((b) => b.traced).map((build) => {
      const requests = (latency.get(build.name) ?? []).reduce((n, r) => n + r.sent, 0);
      const spans = (sink?.spans(build.instanceId) ?? 0) - (spansBefore.get(build.name) ?? 0);
      return `${build.name}: ${spans} spans received for ${requests} requests (${(spans / requests).toFixed(2)} per request), ${sink?.spans(build.instanceId) ?? 0} in the whole run`;
    });

    const minutes = ((Date.now() - began) / 60_000).toFixed(1);
    const lines = [
      '| endpoint | server | bare req/s (median) | its req/s (median) | req/s ratio min / **median** / max (goal >= 0.9) | server CPU us/request (bare / it) | capacity ratio (bare / its CPU per request) min / **median** / max | failed |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `p99 at a fixed ${options.rate} requests/s of \`/api/items/:id\` (open loop, latency from the moment each request was due; ` +
        `${options.rateRounds} interleaved rounds of ${options.rateS} s per server, pooled): ${p99Lines.join('; ')}`,
      '',
      '| server | samples | achieved req/s | p50 ms | p99 ms (pooled) | p99 ms per round min / **median** / max | p99.9 ms | max ms | server CPU us/request | failed |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...latencyRows,
      '',
      ...(traceLines.length > 0 ? [`Traces exported during the fixed-rate rounds (OTLP/JSON, counted by the bench's sink): ${traceLines.join('; ')}.`, ''] : []),
      'Throughput rounds in detail (req/s of each round in time order; CPU as a share of one core):',
      '',
      '| endpoint | server | req/s per round | server CPU min / **median** / max | load generator CPU | PostgreSQL CPU | what limited req/s (median round) |',
      '| --- | --- | --- | ---: | ---: | ---: | --- |',
      ...detail,
      '',
      `Settings: the service as the image runs it (\`node dist/server.mjs\`, built by reference-app/build.ts, NODE_ENV=production); ` +
        `${options.rounds} interleaved rounds of ${options.roundS} s per server and endpoint after ${options.warmupS} s warm-up, ` +
        `${CONNECTIONS} connections; ${pin ? `servers pinned to CPU ${SERVER_CPU}, load generator, trace sink and PostgreSQL to CPU ${GENERATOR_CPU} (taskset)` : 'not pinned'}. ` +
        `Machine: ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before and ${(loadavg()[0] ?? 0).toFixed(1)} after, ` +
        `Node ${process.versions.node}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} min.`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const target of targets) await stopTarget(target);
    await sink?.close();
    await db?.stop();
    for (const bundle of bundles) bundle.remove();
  }
}

if (process.argv.includes('--bare-server')) await runBareServer();
else await runBench();

// A FAKE `k6` for the k6 engine's tests. It is not k6 and shares no code with it: k6 is AGPL-3.0 and this project
// never fetches, builds, vendors or runs it. The fake writes what k6 v1.x (v1.0 and later, the versions
// load/k6/locate.ts accepts) writes, so the engine is tested against k6's formats without k6. It carries out the
// load for real: every arrival is a real HTTP request to BASE_URL, timer-driven at the planned rate.
//
// What it mimics, and where each format fact comes from (grafana/k6 source, read for its formats only):
//   k6 version     `k6 v1.0.0 (commit/<hash>, go1.24.2, linux/amd64)`, as k6 v1.0.0 prints it.
//   k6 inspect     --execution-requirements: cmd/inspect.go prints lib.Options indented, plus totalDuration and
//                  maxVUs (inspectOutputWithExecRequirements); field list as in grafana/k6 issue #3890.
//   k6 archive     a tar with metadata.json (type, options, filename, pwd, env, k6version...), `data` (the main
//                  script) and `file/<absolute path>` for every local module (lib/archive.go).
//   k6 run --out csv=<path>
//                  header and rows as output/csv MakeHeader/SampleToRow: tag columns = the --system-tags list
//                  sorted, then extra_tags (k=v&k=v) and metadata; values with Go's %f; K6_CSV_TIME_FORMAT and
//                  K6_CSV_SAVE_INTERVAL (default 1s) as in output/csv/config.go.
//                  Per request, the samples of lib/netext/httpext Trail.SaveSamples, all stamped at the request's
//                  end: http_reqs, http_req_duration, http_req_blocked, http_req_connecting,
//                  http_req_tls_handshaking, http_req_sending, http_req_waiting, http_req_receiving,
//                  http_req_failed; tags status ("0" without a response), name, expected_response, and error_code
//                  (1000+status for a 4xx/5xx, 1050 timeout, 1212 refused, 1220 reset: httpext/error_codes.go).
//                  Per iteration: data_sent, data_received, iteration_duration, iterations (netext GetTrail order).
//                  dropped_iterations (value 1) when the arrival-rate executor has no free VU (maxVUs reached);
//                  vus and vus_max every second (execution/scheduler.go emitVUsAndVUsMax, 1 s ticker).
//                  Custom Counter samples (app_responses) carry their tags in extra_tags.
//   --log-format=json
//                  logrus JSONFormatter lines on stderr: {"level":"info","msg":"...","source":"console","time":
//                  "<RFC3339>"} for console.log; {"error":...,"level":"warning","msg":"Request Failed",...}.
//   exit codes     errext/exitcodes: 99 thresholds failed, 105 after SIGINT/SIGTERM (cmd/run.go gracefulStop logs
//                  "test run was aborted because k6 received a 'interrupt' signal"; a second signal aborts at
//                  once), 107 script exception.
//
// Which script runs: scenarios/k6/entry.ts is carried out as that script would be (its options from
// parseK6Env + optionsFor, its setup() announcement, its request mix, acks and app_responses counter). Any other
// script (a user's own) cannot be executed here, so the fake reads `<script>.options.json`:
//   { "options": { ...what the script's `export const options` resolves to... },
//     "requests": [ { "method", "path", "name"?, "expectStatus"?, ... } ]   // what its default function sends
//   }
// A request without a name is tagged with its URL, as k6 does; without expectStatus, 200-399 are expected
// (k6's default responseCallback). Arrival-rate executors only (constant-arrival-rate, ramping-arrival-rate).
//
// Failure modes (baked into the wrapper by install.ts, FAKE_K6_MODE): crash (a Go-panic-like stderr and exit
// 107 mid-run; a real Go panic would exit 2: both are "k6 died"), malformed (a garbled CSV line mid-run),
// no-output (exit 0 without opening the --out file), thresholds (a normal run that exits 99).
import { execFileSync } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { APP_RESPONSES_METRIC, APP_VERSION_HEADER, IDEMPOTENCY_KEY_HEADER, INSTANCE_ID_HEADER, ORDER_ACK_PREFIX, PLAN_PREFIX } from '../../contract/names.ts';
import { parseK6Env } from '../../scenarios/lib/k6-env.ts';
import { optionsFor } from '../../scenarios/lib/options.ts';
import { rateAt, REQUEST_TIMEOUT_S, type Stage } from '../../scenarios/lib/plan.ts';
import { fillTemplate, pickRequest } from '../../scenarios/lib/scenario.ts';
import { FAKE_K6_ENV, FAKE_K6_MODES, type FakeK6Mode } from './install.ts';
import {
  CSV_TIME_FORMATS, csvHeader, csvRow, csvTagColumns, DEFAULT_SYSTEM_TAGS, goCsvLine, inspectOutput, jsonLogLine,
  parseGoDurationMs, type CsvTimeFormat, type K6Sample,
} from './k6-format.ts';

const K6_VERSION = '1.0.0';
const ENTRY = realpathSync(fileURLToPath(new URL('../../scenarios/k6/entry.ts', import.meta.url)));
/** How long initialising one more VU mid-run takes here (k6 runs the script's init code for it). */
const VU_INIT_MS = 20;
const EXIT = { thresholds: 99, invalidConfig: 104, externalAbort: 105, scriptException: 107, cobra: 255 } as const;

const rawMode = process.env[FAKE_K6_ENV.mode] ?? 'normal';
const mode: FakeK6Mode = (FAKE_K6_MODES as readonly string[]).includes(rawMode) ? (rawMode as FakeK6Mode) : 'normal';

// ---- command line --------------------------------------------------------------------------------------------

const VALUE_FLAGS = new Map([
  ['-o', 'out'], ['--out', 'out'], ['-e', 'env'], ['--env', 'env'], ['-O', 'archive-out'], ['--archive-out', 'archive-out'],
  ['--system-tags', 'system-tags'], ['--log-format', 'log-format'], ['--summary-mode', 'summary-mode'], ['-t', 'type'], ['--type', 'type'],
  ['-l', 'log-output'], ['--log-output', 'log-output'], ['--console-output', 'console-output'],
]);
const BOOLEAN_FLAGS = new Set(['--no-usage-report', '-q', '--quiet', '--execution-requirements', '--include-system-env-vars', '-v', '--verbose', '--no-color', '--no-summary', '--no-thresholds']);

interface Parsed {
  flags: Map<string, string[]>;
  booleans: Set<string>;
  positional: string[];
}

function parseArgs(args: readonly string[]): Parsed {
  const parsed: Parsed = { flags: new Map(), booleans: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) fail(`flag needs an argument: ${name}`, EXIT.cobra);
      const key = VALUE_FLAGS.get(name) as string;
      parsed.flags.set(key, [...(parsed.flags.get(key) ?? []), value]);
    } else if (BOOLEAN_FLAGS.has(name)) {
      parsed.booleans.add(name.replace(/^-+/, ''));
    } else if (arg.startsWith('-') && arg !== '-') {
      fail(`unknown flag: ${name}`, EXIT.cobra);
    } else {
      parsed.positional.push(arg);
    }
  }
  return parsed;
}

/** `-e K=V` flags: the script's __ENV on top of the system environment (`run` includes system env vars). */
function scriptEnv(parsed: Parsed, includeSystem: boolean): Record<string, string | undefined> {
  const extra = Object.fromEntries((parsed.flags.get('env') ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return includeSystem ? { ...process.env, ...extra } : extra;
}

// ---- logging -------------------------------------------------------------------------------------------------

let jsonLogs = false;
type Level = Parameters<typeof jsonLogLine>[0];

function log(level: Level, msg: string, fields: Record<string, string> = {}): void {
  if (jsonLogs) {
    process.stderr.write(jsonLogLine(level, msg, fields));
  } else {
    // logrus TextFormatter without a TTY: time="..." level=info msg="..." key=value
    const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('');
    process.stderr.write(`time="${new Date().toISOString().slice(0, 19)}Z" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
  }
}

function fail(message: string, code: number, fields: Record<string, string> = {}): never {
  if (code === EXIT.cobra) process.stderr.write(`Error: ${message}\n`);
  else log('error', message, fields);
  process.exit(code);
}

// ---- the script ----------------------------------------------------------------------------------------------

/** One request of the script's default function. */
interface FakeRequest {
  name?: string;
  weight?: number;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  idempotencyKey?: boolean;
  ackJsonField?: string;
  expectStatus?: number[];
}

interface LoadedScript {
  options: Record<string, unknown>;
  requests: FakeRequest[];
  baseUrl: string;
  timeoutMs: number;
  /** setup()'s console line (the generic entry script announces its plan). */
  announce: (() => string) | null;
  /** The entry script counts responses per version and instance in a custom Counter. */
  countsAppResponses: boolean;
}

function loadScript(script: string, env: Record<string, string | undefined>): LoadedScript {
  const path = resolve(script);
  if (!existsSync(path)) {
    fail(`The moduleSpecifier "${script}" couldn't be found on local disk. Make sure that you've specified the right path to the file.`, EXIT.scriptException, { hint: 'script exception' });
  }
  if (realpathSync(path) === ENTRY) {
    let parsed: ReturnType<typeof parseK6Env>;
    try {
      parsed = parseK6Env(env);
    } catch (err) {
      fail(`Error: ${(err as Error).message}\n\tat file://${ENTRY}:13:13(3)`, EXIT.scriptException, { hint: 'script exception' });
    }
    const { plan } = parsed.scenario;
    return {
      options: optionsFor(parsed) as unknown as Record<string, unknown>,
      requests: parsed.scenario.requests,
      baseUrl: parsed.baseUrl,
      timeoutMs: REQUEST_TIMEOUT_S * 1000,
      announce: () => `${PLAN_PREFIX}${JSON.stringify({ startedAtMs: Date.now(), kind: plan.kind, totalS: plan.totalS, phases: plan.phases })}`,
      countsAppResponses: true,
    };
  }
  const sidecar = `${path}.options.json`;
  if (!existsSync(sidecar)) {
    fail(`fake k6: a script other than scenarios/k6/entry.ts needs ${sidecar} ({ options, requests }): the fake cannot execute k6 scripts`, EXIT.scriptException, { hint: 'script exception' });
  }
  const declared = JSON.parse(readFileSync(sidecar, 'utf8')) as { options?: Record<string, unknown>; requests?: FakeRequest[] };
  return {
    options: declared.options ?? {},
    requests: declared.requests ?? [{ method: 'GET', path: '/' }],
    baseUrl: (env.BASE_URL ?? '').replace(/\/+$/, ''),
    timeoutMs: 60_000, // k6's default request timeout
    announce: null,
    countsAppResponses: false,
  };
}

/** The local modules a script loads (relative imports; type-only imports are erased before k6 loads anything). */
function localModules(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(entry, 'utf8');
  const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[1]) continue;
    const target = resolve(dirname(entry), m[2] ?? '');
    if (existsSync(target)) localModules(target, seen);
  }
  return seen;
}

// ---- version, inspect, archive -------------------------------------------------------------------------------

function version(): void {
  process.stdout.write(`k6 v${K6_VERSION} (commit/fakek60000, go1.24.2, linux/amd64)\n`);
}

function readArchiveMetadata(archive: string): { options: Record<string, unknown> } {
  return JSON.parse(execFileSync('tar', ['-xOf', archive, 'metadata.json'], { encoding: 'utf8' })) as { options: Record<string, unknown> };
}

function inspect(parsed: Parsed): void {
  const script = parsed.positional[0];
  if (!script) fail('accepts 1 arg(s), received 0', EXIT.cobra);
  const options = script.endsWith('.tar') ? readArchiveMetadata(script).options : loadScript(script, scriptEnv(parsed, parsed.booleans.has('include-system-env-vars'))).options;
  process.stdout.write(inspectOutput(options, parsed.booleans.has('execution-requirements')));
}

function archive(parsed: Parsed): void {
  const script = parsed.positional[0];
  if (!script) fail('accepts 1 arg(s), received 0', EXIT.cobra);
  const out = parsed.flags.get('archive-out')?.at(-1) ?? 'archive.tar';
  // `k6 archive` does not pass the system environment to the script unless asked (--include-system-env-vars).
  const env = scriptEnv(parsed, parsed.booleans.has('include-system-env-vars'));
  const loaded = loadScript(script, env);
  const main = realpathSync(resolve(script));
  const staging = mkdtempSync(join(tmpdir(), 'fake-k6-archive-'));
  try {
    const resolved = JSON.parse(inspectOutput(loaded.options, false)) as Record<string, unknown>;
    const metadata = {
      type: 'js', options: resolved, filename: pathToFileURL(main).href, pwd: pathToFileURL(dirname(main)).href,
      env: Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined)),
      compatibilityMode: 'extended', k6version: K6_VERSION, goos: process.platform,
    };
    writeFileSync(join(staging, 'metadata.json'), JSON.stringify(metadata, null, 2));
    writeFileSync(join(staging, 'data'), readFileSync(main));
    for (const file of localModules(main)) {
      const target = join(staging, 'file', file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(file));
    }
    execFileSync('tar', ['-cf', resolve(out), '-C', staging, 'metadata.json', 'data', 'file']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// ---- run: the CSV output -------------------------------------------------------------------------------------

/** output/csv: rows buffered and written every saveInterval; the header when the output starts. */
class CsvOutput {
  private buffer: string[] = [];
  private broken = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly stream: WriteStream, private readonly columns: string[], private readonly format: CsvTimeFormat, intervalMs: number) {
    stream.on('error', () => {
      if (!this.broken) log('error', 'CSV: Error writing to file', { filename: String(stream.path) });
      this.broken = true;
    });
    this.timer = setInterval(() => this.flush(), intervalMs);
  }

  /** Opens the file (a FIFO: blocks until the reader opens its end) and writes the header. */
  static async open(path: string, columns: string[], format: CsvTimeFormat, intervalMs: number): Promise<CsvOutput> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolveOpen, reject) => {
      stream.once('open', () => resolveOpen());
      stream.once('error', reject);
    });
    stream.write(goCsvLine(csvHeader(columns)));
    return new CsvOutput(stream, columns, format, intervalMs);
  }

  push(sample: K6Sample): void {
    this.buffer.push(goCsvLine(csvRow(sample, this.columns, this.format, shuffle)));
  }

  /** A line that is not k6's (the `malformed` mode). */
  pushRaw(line: string): void {
    this.buffer.push(line);
  }

  flush(): void {
    if (this.buffer.length === 0 || this.broken) return;
    this.stream.write(this.buffer.join(''));
    this.buffer = [];
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolveEnd) => this.stream.end(resolveEnd));
  }
}

/** Go map iteration order is random: extra_tags come in any order. */
function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---- run: HTTP ---------------------------------------------------------------------------------------------------

interface HttpOutcome {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** k6's error_code when the request failed without a response. */
  errorCode: number | null;
  error: string | null;
  timings: { blocked: number; connecting: number; sending: number; waiting: number; receiving: number };
  bytesSent: number;
  bytesReceived: number;
  interrupted: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function errorCodeOf(err: NodeJS.ErrnoException, timedOut: boolean): { code: number; text: string } {
  if (timedOut) return { code: 1050, text: 'request timeout' };
  if (err.code === 'ECONNREFUSED') return { code: 1212, text: 'dial: connection refused' };
  if (err.code === 'ECONNRESET') return { code: 1220, text: 'read: connection reset by peer' };
  if (err.code === 'ENOTFOUND') return { code: 1101, text: 'lookup: no such host' };
  return { code: 1000, text: err.message };
}

function send(method: string, url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, stop: AbortSignal): Promise<HttpOutcome> {
  return new Promise((resolveOutcome) => {
    const t0 = performance.now();
    let tSocket = t0;
    let tConnected = t0;
    let tSent = t0;
    let tFirstByte: number | null = null;
    let written0 = 0;
    let read0 = 0;
    let timedOut = false;
    let settled = false;
    const req = httpRequest(url, { method, headers: { 'User-Agent': `Grafana k6/${K6_VERSION} (https://k6.io/)`, ...headers }, agent });
    const finish = (outcome: Omit<HttpOutcome, 'timings' | 'bytesSent' | 'bytesReceived' | 'interrupted'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
      const end = performance.now();
      const socket = req.socket;
      const first = tFirstByte ?? end;
      resolveOutcome({
        ...outcome,
        timings: {
          blocked: tSocket - t0,
          connecting: tConnected - tSocket,
          sending: Math.max(0, tSent - tConnected),
          waiting: Math.max(0, first - Math.max(tSent, tConnected)),
          receiving: tFirstByte === null ? 0 : end - tFirstByte,
        },
        bytesSent: socket ? socket.bytesWritten - written0 : 0,
        bytesReceived: socket ? socket.bytesRead - read0 : 0,
        interrupted: stop.aborted,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error('request timeout'));
    }, timeoutMs);
    const onStop = () => req.destroy(new Error('interrupted'));
    stop.addEventListener('abort', onStop, { once: true });
    req.on('socket', (socket) => {
      tSocket = performance.now();
      written0 = socket.bytesWritten;
      read0 = socket.bytesRead;
      if (socket.connecting) socket.once('connect', () => { tConnected = performance.now(); });
      else tConnected = tSocket;
    });
    req.on('finish', () => { tSent = performance.now(); });
    req.on('response', (res) => {
      tFirstByte = performance.now();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), errorCode: null, error: null }));
      res.on('error', (err) => {
        const { code, text } = errorCodeOf(err, timedOut);
        finish({ status: 0, headers: {}, body: '', errorCode: code, error: text });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const { code, text } = errorCodeOf(err, timedOut);
      finish({ status: 0, headers: {}, body: '', errorCode: code, error: text });
    });
    req.end(body);
  });
}

// ---- run: the executors ------------------------------------------------------------------------------------------

interface Executor {
  name: string;
  /** The executor type, e.g. constant-arrival-rate. */
  executor: string;
  startMs: number;
  plan: { startRate: number; stages: Stage[] };
  lengthMs: number;
  gracefulStopMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
  /** VUs running an iteration, VUs initialised (ids 1..allocated), and the idle ones. */
  busy: number;
  allocated: number;
  idle: number[];
  warnedMax: boolean;
  iterations: Map<number, number>;
}

function executorsOf(options: Record<string, unknown>): Executor[] {
  const scenarios = (options.scenarios as Record<string, Record<string, unknown>> | undefined) ?? {};
  return Object.entries(scenarios).map(([name, s]) => {
    const perS = 1000 / parseGoDurationMs((s.timeUnit as string | undefined) ?? '1s');
    let plan: Executor['plan'];
    let lengthMs: number;
    if (s.executor === 'constant-arrival-rate') {
      lengthMs = parseGoDurationMs(s.duration as string);
      const rate = Number(s.rate) * perS;
      plan = { startRate: rate, stages: [{ target: rate, durationS: lengthMs / 1000 }] };
    } else if (s.executor === 'ramping-arrival-rate') {
      const stages = (s.stages as Array<{ duration: string; target: number }>).map((st) => ({ target: st.target * perS, durationS: parseGoDurationMs(st.duration) / 1000 }));
      lengthMs = stages.reduce((sum, st) => sum + st.durationS * 1000, 0);
      plan = { startRate: Number(s.startRate ?? 0) * perS, stages };
    } else {
      fail(`fake k6: scenario ${name} uses executor ${String(s.executor)}; the fake carries out arrival-rate executors only`, EXIT.invalidConfig);
    }
    const preAllocatedVUs = Number(s.preAllocatedVUs ?? 1);
    return {
      name, executor: String(s.executor), startMs: parseGoDurationMs((s.startTime as string | undefined) ?? '0s'), plan, lengthMs,
      gracefulStopMs: parseGoDurationMs((s.gracefulStop as string | undefined) ?? '30s'),
      preAllocatedVUs, maxVUs: Number(s.maxVUs ?? preAllocatedVUs),
      busy: 0, allocated: preAllocatedVUs, idle: Array.from({ length: preAllocatedVUs }, (_, i) => preAllocatedVUs - i), warnedMax: false, iterations: new Map(),
    };
  });
}

/** Arrival offsets (ms from the executor's start): the first as soon as a rate is asked, the n-th when the integral of the rate reaches n. */
function arrivalOffsets(executor: Executor): number[] {
  const out: number[] = [];
  const stepS = 0.001;
  let integral = 0;
  for (let i = 0; i * stepS < executor.lengthMs / 1000; i++) {
    const t = i * stepS;
    const rate = rateAt(executor.plan, t);
    if (out.length === 0 && rate > 0) out.push(t * 1000);
    while (out.length > 0 && integral >= out.length - 1e-9) out.push(t * 1000);
    integral += rate * stepS;
  }
  return out;
}

// ---- run -----------------------------------------------------------------------------------------------------

async function run(parsed: Parsed): Promise<never> {
  jsonLogs = parsed.flags.get('log-format')?.at(-1) === 'json';
  const script = parsed.positional[0];
  if (!script) fail('accepts 1 arg(s), received 0', EXIT.cobra);
  const loaded = loadScript(script, scriptEnv(parsed, true));
  const executors = executorsOf(loaded.options);
  const csvArg = (parsed.flags.get('out') ?? []).find((o) => o.startsWith('csv='));
  if (mode === 'no-output') process.exit(0);

  const formatName = process.env.K6_CSV_TIME_FORMAT ?? 'unix';
  if (!(CSV_TIME_FORMATS as readonly string[]).includes(formatName)) fail(`unknown time format "${formatName}"`, EXIT.invalidConfig);
  const systemTags = parsed.flags.get('system-tags')?.at(-1)?.split(',').filter(Boolean) ?? DEFAULT_SYSTEM_TAGS;
  const columns = csvTagColumns(systemTags);
  const saveMs = parseGoDurationMs(process.env.K6_CSV_SAVE_INTERVAL ?? '1s');

  // Interrupts: the first stops the test (in-flight iterations are cut, outputs flushed), a second aborts at once.
  let interrupted: string | null = null;
  let onInterrupt: (() => void) | null = null;
  const onSignal = (signalName: string) => {
    if (interrupted !== null) {
      log('error', 'Aborting k6 in response to signal', { sig: signalName });
      process.exit(EXIT.externalAbort);
    }
    interrupted = signalName;
    if (onInterrupt) onInterrupt();
    else process.exit(EXIT.externalAbort); // still opening the output: nothing to flush
  };
  process.on('SIGINT', () => onSignal('interrupt'));
  process.on('SIGTERM', () => onSignal('terminated'));

  const csv = csvArg ? await CsvOutput.open(csvArg.slice('csv='.length), columns, formatName as CsvTimeFormat, saveMs) : null;
  const emit = (sample: K6Sample) => csv?.push(sample);
  const vusTicker = setInterval(() => {
    const timeMs = Date.now();
    emit({ metric: 'vus', timeMs, value: executors.reduce((n, e) => n + e.busy, 0) });
    emit({ metric: 'vus_max', timeMs, value: executors.reduce((n, e) => n + e.allocated, 0) });
  }, 1000);

  // Initialising the pre-allocated VUs takes time before setup() runs; the vus ticker already runs.
  await new Promise((r) => setTimeout(r, Number(process.env[FAKE_K6_ENV.initMs] ?? 0)));
  if (loaded.announce) log('info', loaded.announce(), { source: 'console' });

  const stop = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const startedPerf = performance.now();

  const iteration = async (executor: Executor, vu: number) => {
    const iter = executor.iterations.get(vu) ?? 0;
    executor.iterations.set(vu, iter + 1);
    const startPerf = performance.now();
    // pickRequest over the weights only: the index comes back as the name.
    const picked = pickRequest(loaded.requests.map((r, i) => ({ name: String(i), weight: r.weight ?? 1, method: 'GET' as const, path: '', expectStatus: [] })), Math.random());
    const spec = loaded.requests[Number(picked.name)] as FakeRequest;
    const headers: Record<string, string> = { ...(spec.headers ?? {}) };
    if (spec.idempotencyKey) headers[IDEMPOTENCY_KEY_HEADER] = `${vu}-${iter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
    const path = fillTemplate(spec.path);
    const url = /^https?:\/\//.test(path) ? path : `${loaded.baseUrl}${path}`;
    const outcome = await send(spec.method, url, headers, spec.body === undefined ? undefined : fillTemplate(spec.body), loaded.timeoutMs, stop.signal);
    if (outcome.interrupted) return; // k6 emits nothing for an iteration cut by an interrupt
    const endWall = Date.now();
    const expected = spec.expectStatus ? spec.expectStatus.includes(outcome.status) : outcome.status >= 200 && outcome.status < 400;
    const tags: Record<string, string> = { name: spec.name ?? url, status: String(outcome.status), expected_response: String(expected) };
    if (outcome.errorCode !== null) tags.error_code = String(outcome.errorCode);
    else if (outcome.status >= 400) tags.error_code = String(1000 + outcome.status);
    const t = outcome.timings;
    const trail: Array<[string, number]> = [
      ['http_reqs', 1], ['http_req_duration', t.sending + t.waiting + t.receiving], ['http_req_blocked', t.blocked], ['http_req_connecting', t.connecting],
      ['http_req_tls_handshaking', 0], ['http_req_sending', t.sending], ['http_req_waiting', t.waiting], ['http_req_receiving', t.receiving],
      ['http_req_failed', expected ? 0 : 1],
    ];
    for (const [metric, value] of trail) emit({ metric, timeMs: endWall, value, tags });
    if (outcome.error) log('warning', 'Request Failed', { error: `${spec.method} "${url}": ${outcome.error}` });

    if (spec.ackJsonField && expected) {
      let id: unknown;
      try {
        const body = JSON.parse(outcome.body) as Record<string, unknown> | null;
        id = body && typeof body === 'object' ? body[spec.ackJsonField] : undefined;
      } catch {
        id = undefined;
      }
      if (id !== undefined && id !== null && id !== '') log('info', `${ORDER_ACK_PREFIX}${String(id)}`, { source: 'console' });
    }
    const version = outcome.headers[APP_VERSION_HEADER];
    const instance = outcome.headers[INSTANCE_ID_HEADER];
    if (loaded.countsAppResponses && (version !== undefined || instance !== undefined)) {
      emit({ metric: APP_RESPONSES_METRIC, timeMs: Date.now(), value: 1, tags: { version: String(version ?? 'unknown'), instance: String(instance ?? 'unknown') } });
    }
    const iterEnd = Date.now();
    emit({ metric: 'data_sent', timeMs: iterEnd, value: outcome.bytesSent });
    emit({ metric: 'data_received', timeMs: iterEnd, value: outcome.bytesReceived });
    emit({ metric: 'iteration_duration', timeMs: iterEnd, value: performance.now() - startPerf });
    emit({ metric: 'iterations', timeMs: iterEnd, value: 1 });
  };

  // lib/executor arrival-rate executors: an arrival with no idle VU is dropped; below maxVUs a new VU is
  // initialised in the background for later arrivals, at maxVUs k6 warns once.
  const arrive = (executor: Executor, scheduledWall: number) => {
    const vu = executor.idle.pop();
    if (vu === undefined) {
      emit({ metric: 'dropped_iterations', timeMs: scheduledWall, value: 1 });
      if (executor.allocated < executor.maxVUs) {
        const id = ++executor.allocated;
        setTimeout(() => executor.idle.push(id), VU_INIT_MS);
      } else if (!executor.warnedMax) {
        executor.warnedMax = true;
        log('warning', `Insufficient VUs, reached ${executor.maxVUs} active VUs and cannot initialize more`, { executor: executor.executor, scenario: executor.name });
      }
      return;
    }
    executor.busy += 1;
    const done: Promise<void> = iteration(executor, vu)
      .catch((err: unknown) => log('error', String(err)))
      .finally(() => {
        executor.busy -= 1;
        executor.idle.push(vu);
        inFlight.delete(done);
      });
    inFlight.add(done);
  };

  // Timer-driven arrivals, merged over the scenarios, each at its planned offset from t=0.
  const startWall = Date.now();
  const arrivals = executors
    .flatMap((executor) => arrivalOffsets(executor).map((at) => ({ at: executor.startMs + at, executor })))
    .sort((a, b) => a.at - b.at);
  const planEndMs = Math.max(0, ...executors.map((e) => e.startMs + e.lengthMs));
  const graceMs = Math.max(0, ...executors.map((e) => e.gracefulStopMs));
  let next = 0;
  let arrivalTimer: NodeJS.Timeout | undefined;
  const scheduled = new Promise<void>((resolveScheduled) => {
    const tick = () => {
      if (stop.signal.aborted) return resolveScheduled();
      const now = performance.now() - startedPerf;
      while (next < arrivals.length && (arrivals[next]?.at ?? Infinity) <= now) {
        const arrival = arrivals[next++] as (typeof arrivals)[number];
        arrive(arrival.executor, startWall + arrival.at);
      }
      const due = next < arrivals.length ? (arrivals[next]?.at ?? planEndMs) : planEndMs;
      if (next >= arrivals.length && now >= planEndMs) return resolveScheduled();
      arrivalTimer = setTimeout(tick, Math.max(0, due - now));
    };
    onInterrupt = () => {
      clearTimeout(arrivalTimer);
      stop.abort();
      resolveScheduled();
    };
    tick();
  });

  if (mode === 'crash') {
    setTimeout(() => {
      process.stderr.write([
        'panic: runtime error: invalid memory address or nil pointer dereference',
        '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1a2b3c4]',
        '',
        'goroutine 187 [running]:',
        'main.(*csvOutput).flushMetrics(0x0)',
        '',
      ].join('\n'));
      process.exit(EXIT.scriptException);
    }, 1200);
  }
  if (mode === 'malformed') setTimeout(() => csv?.pushRaw('http_req_duration,17\u0000\u0000garbled\n'), 900);

  await scheduled;
  // The plan ended: in-flight iterations get the graceful stop, then are cut.
  if (!stop.signal.aborted && inFlight.size > 0) {
    const grace = setTimeout(() => stop.abort(), graceMs);
    await Promise.all([...inFlight]);
    clearTimeout(grace);
  }
  await Promise.all([...inFlight]);
  clearInterval(vusTicker);
  agent.destroy();
  await csv?.close();

  if (interrupted !== null) {
    log('error', `test run was aborted because k6 received a '${String(interrupted)}' signal`);
    process.exit(EXIT.externalAbort);
  }
  if (mode === 'thresholds') {
    const metrics = Object.keys((loaded.options.thresholds as Record<string, unknown> | undefined) ?? { http_req_duration: [] }).join(', ');
    log('error', `thresholds on metrics '${metrics}' have been crossed`);
    process.exit(EXIT.thresholds);
  }
  process.exit(0);
}

// ---- main ----------------------------------------------------------------------------------------------------

function record(): void {
  const file = process.env[FAKE_K6_ENV.record];
  if (!file) return;
  // What k6 itself would see: without the wrapper's own settings and what its shell adds (PWD, SHLVL...).
  const shellAdded = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FAKE_K6_') && !shellAdded.has(key)));
  appendFileSync(file, `${JSON.stringify({ argv: process.argv.slice(2), env })}\n`);
}

async function main(): Promise<void> {
  record();
  const [command, ...rest] = process.argv.slice(2);
  const parsed = parseArgs(rest);
  switch (command) {
    case 'version': return version();
    case 'inspect': return inspect(parsed);
    case 'archive': return archive(parsed);
    case 'run': return run(parsed);
    default: fail(`unknown command "${command ?? ''}" for "k6"`, EXIT.cobra);
  }
}

void main().catch((err: unknown) => {
  log('error', `fake k6: ${String((err as Error).stack ?? err)}`);
  process.exit(EXIT.scriptException);
});

// Load engine bench: `npx tsx bench/load.ts [--seconds 6] [--rounds 4] [--synthetic-rate 2000] [--synthetic-seconds 600]`.
// 1. Highest sustained rate of k6 alone vs k6 under the runner (CSV through a FIFO, aggregated live),
//    alternated in one run against the same server (the stand-in service, in its own process). Rounds go
//    A-B, B-A, ... so drift in the machine's load hits both sides; the verdict is the median paired ratio.
// 2. The runner's processing rate and memory: a synthetic 10-minute k6 CSV stream at a high rate fed
//    through the same parser and aggregator, writing the timeline.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { LoadAggregator } from '../load/aggregator.ts';
import { K6CsvParser, LineSplitter } from '../load/k6/csv.ts';
import { ensureK6 } from '../load/k6/locate.ts';
import { runK6 } from '../load/k6/engine.ts';
import { TimelineWriter } from '../harness/timeline-file.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '4' },
    'synthetic-rate': { type: 'string', default: '2000' },
    'synthetic-seconds': { type: 'string', default: '600' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

// More than k6 can do here, so both runs measure k6's ceiling; 100 VUs keep k6's memory sane.
const ASKED_RATE = 6000;
const scenarioEnv = {
  RATE_BASE: String(ASKED_RATE), DURATION_S: String(seconds), WEIGHTS: 'read=100,write=0,cpu=0', PRE_VUS: '100', MAX_VUS: '100',
};

async function startServer() {
  const code = `import { startStandInService } from ${JSON.stringify(join(ROOT, 'harness/load/testing/stand-in-service.ts'))};
    const s = await startStandInService(); console.log(s.baseUrl);`;
  const server = execa('node', ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, buffer: false, reject: false });
  const baseUrl = await new Promise<string>((resolveUrl, reject) => {
    server.stdout?.once('data', (chunk: Buffer) => resolveUrl(chunk.toString().trim()));
    server.once('exit', () => reject(new Error('stand-in service exited')));
  });
  return { baseUrl, stop: () => server.kill('SIGKILL') };
}

async function k6Alone(k6: string, baseUrl: string, dir: string): Promise<number> {
  const summary = join(dir, `alone-${Date.now()}.json`);
  await execa(k6, ['run', '--quiet', '--no-usage-report', `--summary-export=${summary}`, join(ROOT, 'scenarios/sustained.ts')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BASE_URL: baseUrl, ...scenarioEnv },
    extendEnv: false, reject: false,
  });
  const exported = JSON.parse(readFileSync(summary, 'utf8')) as { metrics: { http_reqs: { count: number } } };
  return exported.metrics.http_reqs.count / seconds;
}

async function k6Captured(k6: string, baseUrl: string, dir: string): Promise<{ rate: number; status: string; runnerCpuS: number }> {
  const runDir = mkdtempSync(join(dir, 'captured-'));
  const cpuBefore = process.cpuUsage();
  const result = await runK6({
    k6Path: k6, script: join(ROOT, 'scenarios/sustained.ts'), baseUrl, step: 'bench', env: scenarioEnv,
    slo: { p95Ms: 1000, errorRatePercent: 100 }, timeline: new TimelineWriter(join(runDir, 'timeline.jsonl')), runDir,
    // The asked rate is deliberately out of reach: keep k6 running to measure its ceiling.
    saturationLimits: { minDropped: Number.POSITIVE_INFINITY, minAchievedRatio: 0, maxCpuShare: 2, maxMeanRunDelayMs: Number.POSITIVE_INFINITY },
  });
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: result.requests / seconds, status: result.status, runnerCpuS: (cpu.user + cpu.system) / 1e6 };
}

function syntheticStream(rate: number, durationS: number) {
  const dir = mkdtempSync(join(tmpdir(), 'slo-bench-synthetic-'));
  const timeline = new TimelineWriter(join(dir, 'timeline.jsonl'));
  const aggregator = new LoadAggregator({ source: 'k6', step: 'bench', targetRate: () => rate });
  const parser = new K6CsvParser();
  const splitter = new LineSplitter();
  let lines = 0;
  let peakRss = 0;
  let peakHeap = 0;
  const onLine = (line: string) => {
    lines += 1;
    const sample = parser.parse(line);
    if (sample) aggregator.add(sample);
  };
  const t0 = 1_800_000_000_000;
  const tags = 'GET /api/items/:id';
  const started = performance.now();
  splitter.push('metric_name,timestamp,metric_value,check,error_code,expected_response,name,status,extra_tags,metadata\n', onLine);
  for (let s = 0; s < durationS; s++) {
    // One k6 flush worth of text per 100 requests, like the 250 ms flushes of a real run.
    let chunk = '';
    for (let i = 0; i < rate; i++) {
      const ms = t0 + s * 1000 + Math.floor((i * 1000) / rate);
      const duration = (2 + (i % 97) * 0.37).toFixed(6);
      chunk += `http_reqs,${ms},1.000000,,,true,${tags},200,,\n`
        + `http_req_duration,${ms},${duration},,,true,${tags},200,,\n`
        + `http_req_blocked,${ms},0.004000,,,true,${tags},200,,\n`
        + `http_req_connecting,${ms},0.000000,,,true,${tags},200,,\n`
        + `http_req_tls_handshaking,${ms},0.000000,,,true,${tags},200,,\n`
        + `http_req_sending,${ms},0.020000,,,true,${tags},200,,\n`
        + `http_req_waiting,${ms},${duration},,,true,${tags},200,,\n`
        + `http_req_receiving,${ms},0.030000,,,true,${tags},200,,\n`
        + `http_req_failed,${ms},0.000000,,,true,${tags},200,,\n`
        + `checks,${ms},1.000000,item status 200,,,,,,\n`
        + `checks,${ms},1.000000,item body has the id,,,,,,\n`
        + `app_responses,${ms},1.000000,,,,,,instance=pod-${i % 3}&version=v1,\n`
        + `data_sent,${ms},82.000000,,,,,,,\n`
        + `data_received,${ms},243.000000,,,,,,,\n`
        + `iteration_duration,${ms},${duration},,,,,,,\n`
        + `iterations,${ms},1.000000,,,,,,,\n`;
      if (i % 100 === 99) { splitter.push(chunk, onLine); chunk = ''; }
    }
    splitter.push(chunk, onLine);
    for (const { record } of aggregator.closeBefore(t0 + (s - 2) * 1000)) timeline.write(record);
    if (s % 10 === 0) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }
  }
  for (const { record } of aggregator.closeAll()) timeline.write(record);
  const elapsedS = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { lines, elapsedS, linesPerS: lines / elapsedS, requestsPerS: (rate * durationS) / elapsedS, peakRssMb: peakRss / 2 ** 20, peakHeapMb: peakHeap / 2 ** 20 };
}

const k6 = await ensureK6();
const dir = mkdtempSync(join(tmpdir(), 'slo-bench-load-'));
const server = await startServer();
const alone: number[] = [];
const captured: number[] = [];
const ratios: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    let a: number;
    let c: { rate: number; status: string; runnerCpuS: number };
    if (round % 2 === 0) {
      a = await k6Alone(k6, server.baseUrl, dir);
      c = await k6Captured(k6, server.baseUrl, dir);
    } else {
      c = await k6Captured(k6, server.baseUrl, dir);
      a = await k6Alone(k6, server.baseUrl, dir);
    }
    alone.push(a);
    captured.push(c.rate);
    ratios.push(c.rate / a);
    console.log(`round ${round + 1}: k6 alone ${a.toFixed(0)} req/s, under the runner ${c.rate.toFixed(0)} req/s (${c.status}), ratio ${(c.rate / a).toFixed(3)}; runner CPU ${c.runnerCpuS.toFixed(2)} s`);
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ratio = median(ratios);
console.log(`k6 ceiling: alone median ${median(alone).toFixed(0)} req/s, captured median ${median(captured).toFixed(0)} req/s, `
  + `median paired ratio ${ratio.toFixed(3)}, sum ratio ${(captured.reduce((x, y) => x + y, 0) / alone.reduce((x, y) => x + y, 0)).toFixed(3)} (budget >= 0.9)`);
console.log(`load average during the bench: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

const synthetic = syntheticStream(Number(values['synthetic-rate']), Number(values['synthetic-seconds']));
console.log(`aggregator: ${synthetic.lines} CSV lines (${values['synthetic-seconds']} s at ${values['synthetic-rate']} req/s) in ${synthetic.elapsedS.toFixed(1)} s = `
  + `${(synthetic.linesPerS / 1e6).toFixed(2)} M lines/s (${(synthetic.requestsPerS / 1000).toFixed(0)} k requests/s), peak RSS ${synthetic.peakRssMb.toFixed(0)} MB, peak heap ${synthetic.peakHeapMb.toFixed(0)} MB`);
if (ratio < 0.9) process.exitCode = 1;

// Load engine bench: `npx tsx bench/load.ts [--seconds 4] [--rounds 3] [--cpu-rate 2000]`.
// Side by side in one run, against the same fast server (bench/echo-server, Go standard library, pinned to
// its own core where the machine has two, the generators to the other):
// 1. the highest constant rate each generator sustains: the embedded engine (load/embedded, on vegeta's
//    library) and the `vegeta attack` command built from the same module (same vegeta and dependency
//    versions). Rates climb by 10 % from --from, a failed rate is tried once more, then the last step is
//    bisected twice; a rate is sustained when the generator completed >= 99 % of the asked requests in time
//    (embedded: nothing dropped; vegeta: its achieved rate). Rounds alternate which generator goes first;
//    the verdict is the median of the per-round ratios.
// 2. load-generator CPU seconds per 10 000 requests of both at one fixed rate (getrusage of the child).
// 3. the rate at which the embedded engine first drops arrivals on this machine.
// 4. the harness side: engine result lines parsed and folded into per-second records (the runner's cost).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import which from 'which';
import { LoadAggregator } from '../load/aggregator.ts';
import { ensureEmbeddedEngine, ENGINE_SOURCE_DIR, findGo } from '../load/embedded-build.ts';
import { applyLine, type EmbeddedPlan } from '../load/embedded-engine.ts';
import type { EngineOutput } from '../load/engine.ts';
import { TimelineWriter } from '../harness/timeline-file.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TOOLS = join(ROOT, '.tools', 'bin');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    from: { type: 'string', default: '2000' },
    'cpu-rate': { type: 'string', default: '2000' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const work = mkdtempSync(join(tmpdir(), 'slo-bench-load-'));
const pinned = availableParallelism() >= 2 && which.sync('taskset', { nothrow: true }) !== null;
const onCore = (core: number, command: string, args: string[]): [string, string[]] => (pinned ? ['taskset', ['-c', String(core), command, ...args]] : [command, args]);

function goBuild(dir: string, out: string, target = '.'): string {
  const go = findGo();
  if (!go) throw new Error('Go is needed for this bench');
  execFileSync(go, ['build', '-trimpath', '-o', out, target], { cwd: dir, env: { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' }, stdio: 'inherit' });
  return out;
}

/** CPU seconds (user + system) of a command and everything it ran, from getrusage(RUSAGE_CHILDREN). */
const RUSAGE = 'import resource,subprocess,sys\nsubprocess.run(sys.argv[1:])\nr=resource.getrusage(resource.RUSAGE_CHILDREN)\nprint("CPU", r.ru_utime+r.ru_stime, file=sys.stderr)';

interface Probe { rate: number; sent: number; asked: number; dropped: number; cpuS: number; ok: boolean }

async function embeddedProbe(binary: string, baseUrl: string, rate: number, durationS: number): Promise<Probe> {
  const plan: EmbeddedPlan = {
    baseUrl, startAtMs: Date.now() + 300, startRate: rate, stages: [{ target: rate, durationS }],
    requests: [{ name: 'GET /', weight: 1, method: 'GET', path: '/', expectStatus: [200] }],
    timeoutS: 5, maxWorkers: Math.max(20, rate * 5), lateToleranceMs: 100,
  };
  const file = join(work, `plan-${rate}.json`);
  writeFileSync(file, JSON.stringify(plan));
  const [command, args] = onCore(0, binary, ['--plan', file]);
  // Results go to a file, as `vegeta attack -output` does: no reader process competes for the CPUs.
  const output = join(work, `embedded-${rate}.out`);
  const result = await execa('python3', ['-c', RUSAGE, command, ...args], { reject: false, stdout: { file: output } });
  let sent = 0;
  let dropped = 0;
  for (const line of readFileSync(output, 'utf8').split('\n')) {
    if (line.startsWith('r\t')) sent += 1;
    else if (line.startsWith('d\t')) dropped += Number(line.split('\t')[2]);
  }
  const asked = Math.round(rate * durationS);
  const cpuS = Number(/CPU ([\d.]+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  return { rate, sent, asked, dropped, cpuS, ok: dropped === 0 && sent >= 0.99 * asked };
}

async function vegetaProbe(vegeta: string, baseUrl: string, rate: number, durationS: number): Promise<Probe> {
  const results = join(work, `vegeta-${rate}.bin`);
  const [command, args] = onCore(0, vegeta, ['attack', `-rate=${rate}`, `-duration=${durationS}s`, '-timeout=5s', `-output=${results}`]);
  const attack = await execa('python3', ['-c', RUSAGE, command, ...args], { input: `GET ${baseUrl}/\n`, reject: false });
  const report = await execa(vegeta, ['report', '-type=json', results], { reject: false });
  const parsed = JSON.parse(report.stdout || '{}') as { requests?: number; rate?: number; success?: number };
  const asked = Math.round(rate * durationS);
  const sent = parsed.requests ?? 0;
  const cpuS = Number(/CPU ([\d.]+)/.exec(attack.stderr)?.[1] ?? Number.NaN);
  // vegeta does not drop: when it cannot keep up its sending rate falls behind the asked one.
  return { rate, sent, asked, dropped: 0, cpuS, ok: (parsed.rate ?? 0) >= 0.99 * rate && (parsed.success ?? 0) >= 0.99 };
}

/**
 * Climbs by 10 % until a rate fails twice in a row (one failure on a shared machine can be a neighbour's
 * burst), then bisects twice between the last sustained rate and the failed one (about 2.5 % resolution).
 */
async function ceiling(probe: (rate: number) => Promise<Probe>, from: number): Promise<{ highest: number; firstFailure: Probe | null }> {
  const holds = async (rate: number): Promise<Probe> => {
    const first = await probe(rate);
    return first.ok ? first : probe(rate);
  };
  let highest = 0;
  let failure: Probe | null = null;
  for (let rate = from; rate < 100_000; rate = Math.round(rate * 1.1)) {
    const result = await holds(rate);
    if (!result.ok) { failure = result; break; }
    highest = rate;
  }
  const firstFailure = failure;
  let failed = failure?.rate ?? null;
  for (let i = 0; i < 2 && failed !== null && highest > 0; i++) {
    const middle = Math.round((highest + failed) / 2);
    const result = await holds(middle);
    if (result.ok) highest = middle;
    else failed = middle;
  }
  return { highest, firstFailure: failed !== null && firstFailure ? { ...firstFailure, rate: failed } : firstFailure };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const binary = await ensureEmbeddedEngine({ log: (l) => console.error(l) });
  const vegeta = goBuild(ENGINE_SOURCE_DIR, join(TOOLS, 'vegeta'), 'github.com/tsenart/vegeta/v12');
  const echo = goBuild(join(ROOT, 'bench', 'echo-server'), join(TOOLS, 'slo-bench-echo'));
  const [serverCommand, serverArgs] = onCore(1, echo, []);
  const server: ResultPromise = execa(serverCommand, serverArgs, { buffer: false, cleanup: true, reject: false });
  const address = await new Promise<string>((resolveAddress) => server.stdout!.once('data', (chunk: Buffer) => resolveAddress(chunk.toString().trim())));
  const baseUrl = `http://${address}`;
  console.log(`server ${baseUrl}; ${pinned ? 'server on core 1, generators on core 0' : 'not pinned'}; ${seconds} s per probe`);
  try {
    const ratios: number[] = [];
    const firstDrops: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['embedded', 'vegeta'] as const : ['vegeta', 'embedded'] as const;
      const found: Record<string, number> = {};
      for (const who of order) {
        const result = who === 'embedded'
          ? await ceiling((rate) => embeddedProbe(binary, baseUrl, rate, seconds), Number(values.from))
          : await ceiling((rate) => vegetaProbe(vegeta, baseUrl, rate, seconds), Number(values.from));
        found[who] = result.highest;
        if (who === 'embedded' && result.firstFailure) firstDrops.push(result.firstFailure.rate);
      }
      ratios.push(found.embedded! / found.vegeta!);
      console.log(`round ${round + 1}: embedded ${found.embedded} req/s, vegeta attack ${found.vegeta} req/s, ratio ${(found.embedded! / found.vegeta!).toFixed(3)}`);
    }
    console.log(`ceiling ratio embedded / vegeta attack: median ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
    console.log(`embedded engine first drops at: ${firstDrops.join(', ')} req/s (median ${median(firstDrops)})`);

    const cpuRate = Number(values['cpu-rate']);
    const cpu = { embedded: [] as number[], vegeta: [] as number[] };
    for (let i = 0; i < 3; i++) {
      const e = await embeddedProbe(binary, baseUrl, cpuRate, 5);
      const v = await vegetaProbe(vegeta, baseUrl, cpuRate, 5);
      cpu.embedded.push((e.cpuS / e.sent) * 10_000);
      cpu.vegeta.push((v.cpuS / v.sent) * 10_000);
    }
    console.log(`CPU seconds per 10 000 requests at ${cpuRate} req/s (median of 3): embedded ${median(cpu.embedded).toFixed(3)}, vegeta attack ${median(cpu.vegeta).toFixed(3)}`);
  } finally {
    server.kill('SIGTERM');
    await server;
  }

  // 4. The runner's own cost: result lines parsed and aggregated, records written.
  const timeline = new TimelineWriter(join(work, 'timeline.jsonl'));
  const aggregator = new LoadAggregator({ source: 'embedded', step: 'bench' });
  const out: EngineOutput = { sink: aggregator, started: () => undefined, planned: () => undefined, acked: () => undefined, log: () => undefined };
  const total = 2_000_000;
  const t0 = Date.now();
  const lines = Array.from({ length: 1000 }, (_, i) => `r\t${t0 + i}\t${1000 + (i % 500) * 37}\t200\tGET /api/items/:id\t-\tv1\tpod-${i % 20}`);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const at = t0 + Math.floor(i / 2000) * 1000;
    applyLine(lines[i % 1000]!.replace(/^r\t\d+/, `r\t${at}`), out);
    if (i % 2000 === 1999) for (const { record } of aggregator.closeBefore(at)) timeline.write(record);
  }
  for (const { record } of aggregator.closeAll()) timeline.write(record);
  const elapsedS = (performance.now() - started) / 1000;
  console.log(`runner: ${(total / elapsedS / 1000).toFixed(0)} k result lines/s parsed and aggregated (${total} lines, ${elapsedS.toFixed(1)} s), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  rmSync(work, { recursive: true, force: true });
}

await main();

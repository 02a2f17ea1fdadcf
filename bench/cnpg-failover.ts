// `npm run bench -- cnpg-failover` (root; the embedded cluster built; hold /run/slo-embedded.lock on a shared
// machine): CloudNativePG failovers on the embedded cluster, read from the timelines of real runs of
// `slo run --cluster local`. One run per failover mode (the kube adapter's `promote`, as
// `kubectl cnpg promote` does it, and `delete-primary`, the primary's pod deleted with no grace), each with
// three failovers 60 s apart under steady writes (20 requests/s, half of them POST /api/orders):
//  - fault -> new primary: the action's start -> the first `db.role` primary event for another instance (the
//    kube adapter's watch of the Cluster's status.currentPrimary);
//  - fault -> first acknowledged write: the failover verdict's measure (the first second with a successful
//    write after the last second with a failed one; 1 s resolution), computed here up to the second that
//    holds the next failover's start (the verifier's horizon is the next action.start itself, so the writes
//    that failed in that second's first fraction, which belong to the next failover, would count against
//    this one; the verdicts of back-to-back failovers then fail for that reason alone);
//  - the time `up` took, and the acknowledged writes lost over the whole run (audited in the CNPG database).
// CloudNativePG's own e2e budget for a failover on kind is 20 s, for reference. Pass run folders instead
// (`-- cnpg-failover runs/a runs/b`) to read runs made already.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import type { TimelineEvent } from '../contract/timeline.ts';

const ROOT = resolve(import.meta.dirname, '..');
const MODES = ['promote', 'delete-primary'] as const;

const SPEC = `version: 1
slos:
  latency: { p95Ms: 5000, windowS: 30, excludeFailover: true }
  observability: { traces: false, metrics: false, logs: false }
profiles:
  check: { timeScale: 1, autoscalerSyncS: 3, rateScale: 1 }
suite:
  steps:
    - name: failover
      scenario: sustained
      durationS: 200
      rates: { base: 20, peak: 20 }
      weights: { read: 50, write: 50, cpu: 0 }
      cpuMs: 5
      actions: [{ at: "20s", do: failover }, { at: "80s", do: failover }, { at: "140s", do: failover }]
`;

export interface FailoverTimings {
  /** action.start -> another instance reported primary (s), per failover. */
  newPrimaryS: (number | null)[];
  /** action.start -> writes back (the failover.recovery verdicts' measure, s), per failover. */
  writesBackS: (number | null)[];
  /** run.start -> the first step's start: the target's bring-up (s). */
  upS: number | null;
  acknowledged: number | null;
  lost: number | null;
}

/** A load second's writes (a timeline `load` record, only what is read here). */
export interface WriteSecond { t: number; requests: number; failed: number }

/** Action start -> the first second with a successful write after the last one with a failed write, before `until`. */
export function writesBack(start: number, until: number, seconds: readonly WriteSecond[]): number | null {
  const window = seconds.filter((s) => s.t >= Math.floor(start / 1000) * 1000 && s.t < until);
  const lastFailed = window.filter((s) => s.failed > 0).at(-1);
  const recovered = window.find((s) => s.requests > s.failed && (!lastFailed || s.t > lastFailed.t));
  return recovered ? Math.max(0, recovered.t - start) / 1000 : null;
}

/** The measures above, from one run's timeline events and write seconds, and its report's verdicts. */
export function failoverTimings(events: TimelineEvent[], verdicts: { id: string; measured: number | null }[], writes: readonly WriteSecond[] = []): FailoverTimings {
  const starts = events.filter((e) => e.type === 'action.start' && e.data.action === 'failover');
  const roles = events.filter((e): e is Extract<TimelineEvent, { type: 'db.role' }> => e.type === 'db.role');
  const newPrimaryS = starts.map((start) => {
    const before = roles.filter((e) => e.t <= start.t && e.data.role === 'primary').at(-1)?.data.member;
    const next = roles.find((e) => e.t >= start.t && e.data.role === 'primary' && e.data.member !== before);
    return next ? (next.t - start.t) / 1000 : null;
  });
  const writesBackS = writes.length > 0
    ? starts.map((start, i) => writesBack(start.t, starts[i + 1] ? Math.floor(starts[i + 1]!.t / 1000) * 1000 : Infinity, writes))
    : starts.map((_, i) => verdicts.find((v) => v.id === (i === 0 ? 'failover.recovery' : `failover.recovery.${i + 1}`))?.measured ?? null);
  const runStart = events.find((e) => e.type === 'run.start')?.t;
  const stepStart = events.find((e) => e.type === 'step.start')?.t;
  const audit = events.filter((e): e is Extract<TimelineEvent, { type: 'writes.audit' }> => e.type === 'writes.audit').at(-1);
  return {
    newPrimaryS, writesBackS,
    upS: runStart !== undefined && stepStart !== undefined ? (stepStart - runStart) / 1000 : null,
    acknowledged: audit?.data.acknowledged ?? null,
    lost: audit?.data.missing ?? null,
  };
}

interface LoadRecord { kind: 'load'; t: number; byName?: Record<string, { requests: number; failed: number }> }

function readRun(runDir: string): { events: TimelineEvent[]; writes: WriteSecond[]; verdicts: { id: string; measured: number | null }[]; mode: string } {
  const records = readFileSync(join(runDir, 'timeline.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string });
  const events = records.filter((r): r is TimelineEvent & { kind: string } => r.kind === 'event');
  const writes = records.filter((r): r is LoadRecord => r.kind === 'load').map((r) => ({ t: r.t, requests: r.byName?.['POST /api/orders']?.requests ?? 0, failed: r.byName?.['POST /api/orders']?.failed ?? 0 }));
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as { verdicts: { id: string; measured: number | null }[] };
  // runMode writes each mode's runs under a folder named after it.
  return { events, writes, verdicts: report.verdicts, mode: basename(dirname(runDir)) };
}

async function runMode(mode: string, work: string): Promise<string> {
  const spec = join(work, 'cnpg-failover.yaml');
  writeFileSync(spec, SPEC);
  const out = join(work, mode);
  process.stdout.write(`slo run --set failoverMode=${mode} (three failovers)...\n`);
  const result = await execa(process.execPath, [join(ROOT, 'bin', 'slo.js'), 'run', '--cluster', 'local', '--set', `failoverMode=${mode}`, '--config', spec, '--profile', 'check', '--quiet', '--out', out],
    { reject: false, cwd: ROOT, env: { CI: '' } });
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`slo run (${mode}) exited ${result.exitCode}: ${result.stderr.trim().split('\n').at(-1)}`);
  process.stdout.write(`  exit ${result.exitCode}: ${result.stdout.trim().split('\n').at(-1)}\n`);
  return join(out, readdirSync(out)[0]!);
}

const median = (values: (number | null)[]): number | null => {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
};
const fmt = (n: number | null) => (n === null ? 'n/a' : n.toFixed(1));

if (import.meta.url === `file://${process.argv[1]}`) {
  const given = process.argv.slice(2);
  const work = mkdtempSync(join(tmpdir(), 'slo-bench-cnpg-'));
  const runDirs: string[] = [];
  if (given.length > 0) runDirs.push(...given);
  else for (const mode of MODES) runDirs.push(await runMode(mode, work));
  process.stdout.write('\n| run | mode | fault -> new primary (s), each | median | fault -> writes back (s), each | median | up (s) | acknowledged writes lost |\n| --- | --- | --- | ---: | --- | ---: | ---: | ---: |\n');
  for (const dir of runDirs) {
    const run = readRun(dir);
    const t = failoverTimings(run.events, run.verdicts, run.writes);
    process.stdout.write(`| ${dir.replace(/\/$/, '').split('/').at(-1)} | ${run.mode} | ${t.newPrimaryS.map(fmt).join(', ')} | ${fmt(median(t.newPrimaryS))} | ${t.writesBackS.map(fmt).join(', ')} | ${fmt(median(t.writesBackS))} | ${fmt(t.upS)} | ${t.lost ?? 'n/a'} of ${t.acknowledged ?? 'n/a'} |\n`);
  }
}

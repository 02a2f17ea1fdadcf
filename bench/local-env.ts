// Local environment bench: `npx tsx bench/local-env.ts [--db-runs 3] [--failovers 2] [--syncs 3,15,3,15,3,15]
// [--budget-s 330] [--keep]`.
// 1. Time until `up()` resolves (every replica ready and UP in the load balancer): with the reference service on
//    the HA database (etcd + Patroni + HAProxy + Prometheus + 3 replicas), and with the stand-in service and no
//    database, so the database's share shows.
// 2. HPA reaction: from the onset of CPU load through the load balancer to the first `hpa` event with
//    desired > 3, per autoscaler sync period.
// 3. Database failover: `db.role` events (old primary down -> new primary) and the first write through the
//    service (and so through the database HAProxy) that succeeds after the kill.
// Timings come from each run's timeline.jsonl (and the cluster's log lines for the instants the timeline has no
// event for). Every cluster is torn down in `finally`; a global budget aborts whatever still runs.
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalCluster } from '../clusters/local/index.ts';
import { sleep } from '../clusters/wait.ts';
import { STAND_IN_COMMAND, newRunsRoot } from '../testing/local/harness-context.ts';
import { startLoadLoop } from '../testing/local/load-loop.ts';
import type { Cluster, ClusterContext, ClusterOptions } from '../clusters/types.ts';
import { TIMELINE_FILE, eventsOf } from '../contract/timeline.ts';
import { TimelineWriter, readTimeline } from '../harness/timeline-file.ts';

const { values } = parseArgs({
  options: {
    'db-runs': { type: 'string', default: '3' },
    failovers: { type: 'string', default: '2' },
    syncs: { type: 'string', default: '3,15,3,15,3,15' },
    'budget-s': { type: 'string', default: '330' },
    keep: { type: 'boolean', default: false },
  },
});
const dbRuns = Number(values['db-runs']);
const failovers = Number(values.failovers);
const syncs = values.syncs.split(',').filter(Boolean).map(Number);
const budgetMs = Number(values['budget-s']) * 1000;

const benchStart = Date.now();
const budget = new AbortController();
const budgetTimer = setTimeout(() => budget.abort(new Error('bench budget exceeded')), budgetMs);
const stopOnSignal = () => budget.abort(new Error('interrupted'));
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);
const remainingMs = () => budgetMs - (Date.now() - benchStart);

const runsRoot = newRunsRoot();

interface BenchContext extends ClusterContext {
  timelineFile: string;
  logs: { t: number; line: string }[];
}

function benchContext(name: string): BenchContext {
  const runDir = join(runsRoot, name);
  mkdirSync(runDir, { recursive: true });
  const timelineFile = join(runDir, TIMELINE_FILE);
  const logs: { t: number; line: string }[] = [];
  return { runDir, timeline: new TimelineWriter(timelineFile), signal: budget.signal, log: (line) => logs.push({ t: Date.now(), line }), timelineFile, logs };
}

interface UpTiming {
  kind: 'database' | 'stand-in';
  name: string;
  totalMs: number;
  /** up() called -> "database: up" (primary, sync standby, HAProxy routing, writable). */
  databaseMs: number | null;
  /** up() called -> first pod.start: database, service HAProxy and Prometheus. */
  beforePodsMs: number;
  /** first pod.start -> up() resolved: 3 replicas started, ready, UP in HAProxy. */
  podsMs: number;
}

interface Running {
  cluster: Cluster;
  ctx: BenchContext;
  baseUrl: string;
  up: UpTiming;
}

/** Brings a cluster up, times it from its timeline, runs `body`, and always tears it down. */
async function withCluster<T>(kind: UpTiming['kind'], name: string, options: ClusterOptions, body: (running: Running) => Promise<T>): Promise<T> {
  const ctx = benchContext(name);
  const cluster = createLocalCluster(ctx, options);
  try {
    const t0 = Date.now();
    const endpoint = await cluster.up();
    const tUp = Date.now();
    const firstPod = eventsOf(readTimeline(ctx.timelineFile), 'pod.start')[0];
    if (!firstPod) throw new Error(`${name}: no pod.start event in the timeline`);
    const dbUp = ctx.logs.find((l) => l.line.startsWith('database: up'));
    const up: UpTiming = { kind, name, totalMs: tUp - t0, databaseMs: dbUp ? dbUp.t - t0 : null, beforePodsMs: firstPod.t - t0, podsMs: tUp - firstPod.t };
    console.log(`${name}: up in ${secs(up.totalMs)} (database ${up.databaseMs === null ? '-' : secs(up.databaseMs)}, before pods ${secs(up.beforePodsMs)}, pods ${secs(up.podsMs)})`);
    return await body({ cluster, ctx, baseUrl: endpoint.baseUrl, up });
  } finally {
    const t = Date.now();
    await cluster.down();
    console.log(`${name}: down in ${secs(Date.now() - t)}`);
  }
}

// ---- 2. autoscaler reaction --------------------------------------------------------------------------------

interface Reaction {
  syncS: number;
  /** Load onset, as a fraction of the HPA cycle that started when up() resolved. */
  phase: number;
  /** Load onset -> first hpa event with desired > 3. */
  reactionMs: number | null;
  /** Load onset -> first hpa sync after it (a lower bound on the reaction). */
  nextSyncMs: number | null;
  /** Which sync after the onset scaled up (1 = the first one). */
  syncIndex: number | null;
  cpuPercent: number | null;
  desired: number | null;
}

async function reactionTrial(syncS: number, phase: number, index: number): Promise<{ up: UpTiming; reaction: Reaction }> {
  const options: ClusterOptions = {
    app: STAND_IN_COMMAND,
    replicas: { min: 3, max: 10, initial: 3 },
    autoscalerSyncS: syncS,
    // Defaults otherwise: 50m request, 70 % target, so 35m per pod is the target.
    settings: { database: false },
  };
  return withCluster('stand-in', `hpa-${syncS}s-${index}`, options, async ({ ctx, baseUrl, up }) => {
    // The HPA timer starts just before up() resolves, so its syncs fall at about tUp + k * sync. Starting the
    // load at a chosen phase of that cycle spreads the trials over it instead of always meeting a fresh cycle.
    const tUp = Date.now();
    await sleep(phase * syncS * 1000, budget.signal);
    const tLoad = Date.now();
    // One closed loop per replica, 50 ms of CPU per request: every replica saturates one core's share.
    const load = startLoadLoop(`${baseUrl}/api/cpu?ms=50`, 3, 0);
    try {
      const deadline = tLoad + 2 * syncS * 1000 + 10_000;
      while (Date.now() < deadline && !budget.signal.aborted) {
        const hpa = eventsOf(readTimeline(ctx.timelineFile), 'hpa').filter((e) => e.t >= tLoad);
        const scaleUp = hpa.find((e) => e.data.desired > 3);
        if (scaleUp) {
          return {
            up,
            reaction: {
              syncS, phase: (tLoad - tUp) / (syncS * 1000), reactionMs: scaleUp.t - tLoad, nextSyncMs: (hpa[0]?.t ?? scaleUp.t) - tLoad,
              syncIndex: hpa.indexOf(scaleUp) + 1, cpuPercent: scaleUp.data.cpuPercent, desired: scaleUp.data.desired,
            },
          };
        }
        await sleep(100, budget.signal);
      }
      const first = eventsOf(readTimeline(ctx.timelineFile), 'hpa').find((e) => e.t >= tLoad);
      return { up, reaction: { syncS, phase, reactionMs: null, nextSyncMs: first ? first.t - tLoad : null, syncIndex: null, cpuPercent: first?.data.cpuPercent ?? null, desired: null } };
    } finally {
      await load.stop();
    }
  });
}

// ---- 3. database failover ----------------------------------------------------------------------------------

interface Write {
  start: number;
  end: number;
  status: number; // 0: no response
}

/** One order after another through the service, 50 ms apart, each bounded by a 2 s timeout. */
function startWriter(baseUrl: string, tag: string): { stop(): Promise<Write[]> } {
  const writes: Write[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const start = Date.now();
      let status = 0;
      try {
        const response = await fetch(`${baseUrl}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${tag}-${i}` },
          body: JSON.stringify({ itemId: 1, quantity: 1 }),
          signal: AbortSignal.timeout(2000),
        });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      writes.push({ start, end: Date.now(), status });
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return writes;
    },
  };
}

interface Failover {
  name: string;
  /** Kill (SIGKILL of the primary's Patroni and PostgreSQL done) -> role watcher sees it down. */
  downSeenMs: number | null;
  /** db.role: old primary down -> another member primary. */
  downToPrimaryMs: number | null;
  /** Kill -> db.role primary of another member. */
  killToPrimaryMs: number | null;
  /** Kill -> database HAProxy routes only to the new primary. */
  killToRoutedMs: number | null;
  /** Kill -> first successful order write (201) sent after the kill, through service and database HAProxy. */
  killToFirstWriteMs: number | null;
  /** Last acknowledged write before the kill -> first after it: the write outage a client saw. */
  writeGapMs: number | null;
  failedWrites: number;
  /** failover() call -> it resolved (includes the old node rejoining as a synchronous standby). */
  failoverCallMs: number;
}

async function failoverTrial({ cluster, ctx, baseUrl }: Running): Promise<Failover> {
  if (!cluster.failover) throw new Error('the local cluster has no failover with the database on');
  const writer = startWriter(baseUrl, ctx.runDir);
  let writes: Write[] = [];
  const tCall = Date.now();
  try {
    await sleep(1500, budget.signal); // acknowledged writes before the kill, to measure the gap from
    await cluster.failover();
  } finally {
    writes = await writer.stop();
  }
  const tDone = Date.now();
  const killLog = ctx.logs.find((l) => l.t >= tCall && l.line.startsWith('database: killed node'));
  if (!killLog) throw new Error(`${ctx.runDir}: no kill in the cluster log`);
  const tKill = killLog.t;
  const victim = /killed node (\S+)/.exec(killLog.line)?.[1];
  const roles = eventsOf(readTimeline(ctx.timelineFile), 'db.role').filter((e) => e.t >= tCall);
  const down = roles.find((e) => e.data.member === victim && e.data.role === 'down');
  const promoted = roles.find((e) => e.data.member !== victim && e.data.role === 'primary');
  const routed = ctx.logs.find((l) => l.t >= tKill && l.line.includes('is the new primary'));
  const ok = (w: Write) => w.status === 201;
  const lastBefore = writes.filter((w) => ok(w) && w.end <= tKill).at(-1);
  const firstAfter = writes.find((w) => ok(w) && w.start >= tKill);
  return {
    name: ctx.runDir.split('/').at(-1) ?? ctx.runDir,
    downSeenMs: down ? down.t - tKill : null,
    downToPrimaryMs: down && promoted ? promoted.t - down.t : null,
    killToPrimaryMs: promoted ? promoted.t - tKill : null,
    killToRoutedMs: routed ? routed.t - tKill : null,
    killToFirstWriteMs: firstAfter ? firstAfter.end - tKill : null,
    writeGapMs: lastBefore && firstAfter ? firstAfter.end - lastBefore.end : null,
    failedWrites: writes.filter((w) => !ok(w)).length,
    failoverCallMs: tDone - tCall,
  };
}

// ---- formatting ----------------------------------------------------------------------------------------------

function secs(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "median (min-max, n)" in seconds. */
function summary(xs: readonly (number | null)[]): string {
  const known = xs.filter((x): x is number => x !== null);
  const m = median(known);
  if (m === null) return 'n/a';
  return `${secs(m)} (${(Math.min(...known) / 1000).toFixed(1)}-${(Math.max(...known) / 1000).toFixed(1)}, n=${known.length}${known.length < xs.length ? `, ${xs.length - known.length} missing` : ''})`;
}

// ---- the run -------------------------------------------------------------------------------------------------

const ups: UpTiming[] = [];
const reactions: Reaction[] = [];
const failoverResults: Failover[] = [];
const skipped: string[] = [];
const failures: string[] = [];

// Interleaved, so drifting machine load (other jobs on the 2 cores) hits both kinds alike.
type Job = { what: string; needMs: number; run: () => Promise<void> };
const jobs: Job[] = [];
const trialsPerSync = new Map<number, number>();
for (const s of syncs) trialsPerSync.set(s, (trialsPerSync.get(s) ?? 0) + 1);
const seenPerSync = new Map<number, number>();
const standInJobs: Job[] = syncs.map((syncS, i) => {
  const k = seenPerSync.get(syncS) ?? 0;
  seenPerSync.set(syncS, k + 1);
  // Spread the onsets over the cycle: 1/4 and 3/4 for two trials, and so on.
  const phase = (k + 0.5) / (trialsPerSync.get(syncS) ?? 1);
  return {
    what: `hpa sync ${syncS} s, phase ${phase.toFixed(2)}`,
    needMs: 15_000 + 2 * syncS * 1000,
    run: async () => {
      const { up, reaction } = await reactionTrial(syncS, phase, i + 1);
      ups.push(up);
      reactions.push(reaction);
      console.log(`  reaction ${secs(reaction.reactionMs)} (next sync after onset ${secs(reaction.nextSyncMs)}, sync #${reaction.syncIndex ?? '-'}, cpu ${reaction.cpuPercent ?? '?'} %, desired ${reaction.desired ?? '-'})`);
    },
  };
});
const dbJobs: Job[] = Array.from({ length: dbRuns }, (_, i) => ({
  what: `database run ${i + 1}${i < failovers ? ' with failover' : ''}`,
  needMs: i < failovers ? 90_000 : 45_000,
  run: async () => {
    await withCluster('database', `db-${i + 1}`, {}, async (running) => {
      ups.push(running.up);
      if (i >= failovers) return;
      const result = await failoverTrial(running);
      failoverResults.push(result);
      console.log(`  failover: down seen ${secs(result.downSeenMs)}, kill -> new primary ${secs(result.killToPrimaryMs)} (down -> primary ${secs(result.downToPrimaryMs)}), HAProxy routed ${secs(result.killToRoutedMs)}, first write ${secs(result.killToFirstWriteMs)}, ${result.failedWrites} failed writes, failover() ${secs(result.failoverCallMs)}`);
    });
  },
}));
for (let i = 0; i < Math.max(dbJobs.length, standInJobs.length); i++) {
  const db = dbJobs[i];
  const standIn = standInJobs[i];
  if (db) jobs.push(db);
  if (standIn) jobs.push(standIn);
}

const loadBefore = loadavg();
try {
  for (const job of jobs) {
    if (budget.signal.aborted || remainingMs() < job.needMs) {
      skipped.push(job.what);
      continue;
    }
    console.log(`-- ${job.what}`);
    try {
      await job.run();
    } catch (error) {
      failures.push(`${job.what}: ${error instanceof Error ? error.message : String(error)}`);
      console.log(`  FAILED: ${failures.at(-1)}`);
    }
  }
} finally {
  clearTimeout(budgetTimer);
  if (!values.keep) rmSync(runsRoot, { recursive: true, force: true });
}
const loadAfter = loadavg();

const byKind = (kind: UpTiming['kind']) => ups.filter((u) => u.kind === kind);
const db = byKind('database');
const standIn = byKind('stand-in');
const lines = [
  '',
  `bench wall time ${secs(Date.now() - benchStart)}; load average ${loadBefore[0]?.toFixed(1)} before, ${loadAfter[0]?.toFixed(1)} after; runs under ${values.keep ? runsRoot : '(removed)'}`,
  '',
  '| measurement | median (min-max, n) |',
  '| --- | ---: |',
  `| up, reference service + HA database: total | ${summary(db.map((u) => u.totalMs))} |`,
  `| ... of which the database (etcd, Patroni x2, HAProxy, writable) | ${summary(db.map((u) => u.databaseMs))} |`,
  `| ... of which service HAProxy + Prometheus | ${summary(db.map((u) => u.beforePodsMs - (u.databaseMs ?? 0)))} |`,
  `| ... of which 3 replicas started, ready, in HAProxy | ${summary(db.map((u) => u.podsMs))} |`,
  `| up, stand-in service, no database: total | ${summary(standIn.map((u) => u.totalMs))} |`,
  `| ... of which service HAProxy + Prometheus | ${summary(standIn.map((u) => u.beforePodsMs))} |`,
  `| ... of which 3 replicas started, ready, in HAProxy | ${summary(standIn.map((u) => u.podsMs))} |`,
  ...[...new Set(syncs)].map((s) => `| HPA reaction, sync ${s} s: load onset -> hpa desired > 3 | ${summary(reactions.filter((r) => r.syncS === s).map((r) => r.reactionMs))} |`),
  `| failover: kill -> old primary seen down | ${summary(failoverResults.map((f) => f.downSeenMs))} |`,
  `| failover: old primary down -> new primary (db.role) | ${summary(failoverResults.map((f) => f.downToPrimaryMs))} |`,
  `| failover: kill -> new primary (db.role) | ${summary(failoverResults.map((f) => f.killToPrimaryMs))} |`,
  `| failover: kill -> database HAProxy routes to it | ${summary(failoverResults.map((f) => f.killToRoutedMs))} |`,
  `| failover: kill -> first acknowledged write | ${summary(failoverResults.map((f) => f.killToFirstWriteMs))} |`,
  `| failover: write gap seen by a client | ${summary(failoverResults.map((f) => f.writeGapMs))} |`,
  `| failover(): call -> old node rejoined as sync standby | ${summary(failoverResults.map((f) => f.failoverCallMs))} |`,
  '',
  '| HPA trial | sync | onset phase | next sync after onset | reaction | scaled at sync # | cpu % | desired |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...reactions.map((r, i) => `| ${i + 1} | ${r.syncS} s | ${r.phase.toFixed(2)} | ${secs(r.nextSyncMs)} | ${secs(r.reactionMs)} | ${r.syncIndex ?? '-'} | ${r.cpuPercent ?? '?'} | ${r.desired ?? '-'} |`),
  '',
  ...(skipped.length ? [`skipped (budget): ${skipped.join('; ')}`] : []),
  ...(failures.length ? [`failed: ${failures.join('; ')}`] : []),
];
console.log(lines.join('\n'));
if (failures.length || skipped.length) process.exitCode = 1;

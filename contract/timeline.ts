// The timeline: the contract between the half that runs (cluster, load, actions) and the half that judges
// (verifiers, reports). One JSON object per line in `<run-dir>/timeline.jsonl`, the first one a header that
// carries TIMELINE_VERSION. Verifiers and reports read only this and the spec, so a stored run can be judged
// again later, anywhere. Bump TIMELINE_VERSION on any change that an older reader could misread; a reader
// refuses a version it does not know instead of guessing. Pure: the file itself is written and read by
// harness/timeline-file.ts.
import { z } from 'zod';
import { errors } from './errors.ts';
import { RUN_FILES } from './names.ts';

/**
 * 2: the header record, `writes.audit` split from its failure (`writes.audit.failed`), per-request
 * histograms on load records, `run.info` (provenance).
 */
export const TIMELINE_VERSION = 2;

const counts = z.record(z.string(), z.number().int().nonnegative());

/**
 * Load seen by one load generator in one second. Latency is an HDR histogram of microseconds, encoded with
 * hdr-histogram-js `encodeIntoCompressedBase64`, so records from many runners merge exactly.
 */
export const LoadRecordSchema = z.object({
  kind: z.literal('load'),
  t: z.number().int(), // epoch ms, start of the one-second bucket
  source: z.string(), // which load generator (k6 instance) saw it
  step: z.string().optional(),
  requests: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(), // k6 http_req_failed (status outside the expected set, or no response)
  status: counts, // HTTP status code -> count; "0" when no response arrived
  errors: counts, // error kind (timeout, connection refused, reset, 5xx, check failed...) -> count
  latencyUs: z.string(), // compressed base64 HDR histogram of http_req_duration in microseconds
  byName: z.record(z.string(), z.object({
    requests: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    latencyUs: z.string().optional(), // this request name's own histogram (same codec), for per-request p95
  })),
  versions: counts, // x-app-version header -> count
  instances: counts, // x-instance-id header -> count
  iterations: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(), // k6 dropped_iterations
  targetRate: z.number().nonnegative().optional(), // iterations/s the executor asked for during this second
  // Distributed load (`--runners N`): the record merges N runner pods; runner id (its Job completion index)
  // -> requests it completed in this second. Absent for one in-process generator.
  runners: counts.optional(),
});
export type LoadRecord = z.infer<typeof LoadRecordSchema>;

const event = <T extends string, D extends z.ZodTypeAny>(type: T, data: D) =>
  z.object({ kind: z.literal('event'), t: z.number().int(), source: z.string(), type: z.literal(type), data });

export const TimelineEventSchema = z.discriminatedUnion('type', [
  event('run.start', z.object({ runId: z.string(), cluster: z.string(), profile: z.string(), steps: z.array(z.string()) })),
  event('run.end', z.object({ status: z.enum(['completed', 'aborted', 'invalid']), reason: z.string().optional() })),
  // Provenance: what produced this run, for a reader who has only the reports.
  event('run.info', z.object({
    harness: z.object({ version: z.string(), commit: z.string().nullable() }),
    engine: z.string(),
    profile: z.string(),
    specHash: z.string(), // sha256 of the spec text (or of the defaults), first 16 hex digits
    machine: z.object({ cores: z.number().int().positive(), memoryMiB: z.number().int().nonnegative(), platform: z.string() }),
    target: z.record(z.string(), z.string()), // component -> version the target reported (PostgreSQL, Kubernetes...)
  })),
  event('step.start', z.object({ step: z.string(), scenario: z.string(), durationS: z.number().nonnegative() })),
  event('step.end', z.object({ step: z.string(), ok: z.boolean(), reason: z.string().optional() })),
  // A named stretch of a scenario (ramp, spike, steady, recovery...), for per-phase judgements.
  event('phase', z.object({ step: z.string(), name: z.string(), state: z.enum(['start', 'end']) })),
  event('action.start', z.object({ action: z.enum(['rollout', 'kill', 'failover', 'scale']), detail: z.record(z.string(), z.unknown()).optional() })),
  event('action.end', z.object({ action: z.enum(['rollout', 'kill', 'failover', 'scale']), ok: z.boolean(), error: z.string().optional() })),
  event('replicas', z.object({ desired: z.number().int().nonnegative(), ready: z.number().int().nonnegative() })),
  // owner: the controller that made the pod (its ReplicaSet on Kubernetes), where the target has one.
  event('pod.start', z.object({ pod: z.string(), version: z.string(), owner: z.string().optional() })),
  event('pod.ready', z.object({ pod: z.string(), version: z.string(), owner: z.string().optional() })),
  event('pod.stop', z.object({ pod: z.string(), reason: z.enum(['scale-down', 'rollout', 'killed', 'exited', 'teardown']), exitCode: z.number().int().nullable().optional() })),
  event('hpa', z.object({ current: z.number().int().nonnegative(), desired: z.number().int().nonnegative(), cpuPercent: z.number().nullable(), memoryPercent: z.number().nullable().optional() })),
  // What the autoscaler controller itself said (Kubernetes Events about the HPA: SuccessfulRescale with its
  // reason, or a warning such as FailedGetResourceMetric); `controller` is the event's reporting component.
  event('hpa.rescale', z.object({ size: z.number().int().nonnegative().nullable(), reason: z.string(), message: z.string(), controller: z.string() })),
  // A ReplicaSet of the service's Deployment changed size: a rollout is the new one growing as the old shrinks.
  event('replicaset', z.object({ name: z.string(), revision: z.string().nullable(), version: z.string(), desired: z.number().int().nonnegative(), ready: z.number().int().nonnegative() })),
  event('db.role', z.object({ member: z.string(), role: z.enum(['primary', 'replica', 'down']) })),
  event('rollout', z.object({ from: z.string(), to: z.string(), state: z.enum(['start', 'progress', 'complete', 'failed']), updated: z.number().int(), total: z.number().int() })),
  // After the load: which acknowledged writes the database no longer has.
  event('writes.audit', z.object({ acknowledged: z.number().int().nonnegative(), missing: z.number().int().nonnegative(), missingIds: z.array(z.string()) })),
  // The audit could not run (database unreachable...): the durability of acknowledged writes is unknown.
  event('writes.audit.failed', z.object({ acknowledged: z.number().int().nonnegative(), reason: z.string() })),
  // Server-side latency from the service's own histogram (Prometheus), over [from, t].
  event('server.latency', z.object({ from: z.number().int(), p95Ms: z.number().nullable(), requests: z.number().nonnegative() })),
  event('observability', z.object({ signal: z.enum(['traces', 'metrics', 'logs']), ok: z.boolean(), detail: z.string() })),
  event('loadgen', z.object({ state: z.enum(['saturated', 'aborted']), reason: z.string() })),
]);
export type TimelineEvent = z.infer<typeof TimelineEventSchema>;
export type EventType = TimelineEvent['type'];
export type EventOf<T extends EventType> = Extract<TimelineEvent, { type: T }>;

/** The first line of every timeline: which contract version wrote it. */
export const TimelineHeaderSchema = z.object({
  kind: z.literal('timeline'),
  t: z.number().int(),
  version: z.number().int().positive(),
  writer: z.string(), // e.g. "slo-harness 0.1.0"
});
export type TimelineHeader = z.infer<typeof TimelineHeaderSchema>;

export const TimelineRecordSchema = z.union([LoadRecordSchema, TimelineEventSchema]);
export type TimelineRecord = LoadRecord | TimelineEvent;

export const TIMELINE_FILE = RUN_FILES.timeline;

/**
 * Who writes each event, stated once. The harness frames the run and the actions it carries out (an adapter
 * only carries an action out; it never records it), the cluster adapter observes the target, the load
 * engine records load seconds, phases and its own failures.
 */
export const EVENT_WRITERS: Readonly<Record<EventType, 'harness' | 'cluster' | 'load'>> = {
  'run.start': 'harness',
  'run.end': 'harness',
  'run.info': 'harness',
  'step.start': 'harness',
  'step.end': 'harness',
  'action.start': 'harness',
  'action.end': 'harness',
  'writes.audit': 'harness',
  'writes.audit.failed': 'harness',
  'server.latency': 'harness',
  observability: 'harness',
  phase: 'load',
  loadgen: 'load',
  replicas: 'cluster',
  'pod.start': 'cluster',
  'pod.ready': 'cluster',
  'pod.stop': 'cluster',
  hpa: 'cluster',
  'hpa.rescale': 'cluster',
  replicaset: 'cluster',
  'db.role': 'cluster',
  rollout: 'cluster',
};

/** Where records go while a run happens. The harness's file writer implements it; tests use arrays. */
export interface TimelineSink {
  write(record: TimelineRecord): void;
  event<T extends EventType>(type: T, source: string, data: EventOf<T>['data'], t?: number): void;
}

/** An event record; `t` rounded to whole milliseconds. */
export function eventRecord<T extends EventType>(type: T, source: string, data: EventOf<T>['data'], t = Date.now()): TimelineEvent {
  return { kind: 'event', t: Math.round(t), source, type, data } as TimelineEvent;
}

export function timelineHeader(writer: string, t = Date.now()): TimelineHeader {
  return { kind: 'timeline', t: Math.round(t), version: TIMELINE_VERSION, writer };
}

/**
 * Parses and validates a whole timeline text, sorted by time. `source` names it in errors (a path), and line
 * numbers point at the bad record. The header must come first and carry this reader's version.
 */
export function parseTimeline(text: string, source: string): TimelineRecord[] {
  const lines = text.split('\n');
  const records: TimelineRecord[] = [];
  let header: TimelineHeader | null = null;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // A crash can cut the last line short; anything earlier is corruption.
      if (index >= lines.length - 2) return;
      throw errors.SLO_ERR_TIMELINE_INVALID(`${source}:${index + 1} is not JSON`);
    }
    if (header === null) {
      const parsed = TimelineHeaderSchema.safeParse(raw);
      if (!parsed.success) {
        throw errors.SLO_ERR_TIMELINE_INVALID(`${source}:${index + 1} has no timeline header (written by an older slo-harness, before timelines carried a version)`,
          `re-run it with this version, or judge it with the slo-harness that wrote it`);
      }
      if (parsed.data.version !== TIMELINE_VERSION) {
        throw errors.SLO_ERR_TIMELINE_INVALID(`${source}: timeline version ${parsed.data.version} (by ${parsed.data.writer}); this slo-harness reads version ${TIMELINE_VERSION}`,
          'judge it with the slo-harness that wrote it');
      }
      header = parsed.data;
      return;
    }
    const parsed = TimelineRecordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw errors.SLO_ERR_TIMELINE_INVALID(`${source}:${index + 1} ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    records.push(parsed.data as TimelineRecord);
  });
  return records.sort((a, b) => a.t - b.t);
}

export function loadRecords(records: readonly TimelineRecord[]): LoadRecord[] {
  return records.filter((r): r is LoadRecord => r.kind === 'load');
}

export function eventsOf<T extends EventType>(records: readonly TimelineRecord[], type: T): EventOf<T>[] {
  return records.filter((r): r is EventOf<T> => r.kind === 'event' && r.type === type);
}

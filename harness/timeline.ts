// The timeline: the contract between the half that runs (cluster, load, actions) and the half that judges
// (verifiers, reports). One JSON object per line in `<run-dir>/timeline.jsonl`. Verifiers and reports read
// only this file and the spec, so a stored run can be judged again later. Bump TIMELINE_VERSION on any
// change that an older reader could misread.
import { appendFileSync, readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { errors } from './errors.ts';

export const TIMELINE_VERSION = 1;

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
  byName: z.record(z.string(), z.object({ requests: z.number().int().nonnegative(), failed: z.number().int().nonnegative() })),
  versions: counts, // x-app-version header -> count
  instances: counts, // x-instance-id header -> count
  iterations: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(), // k6 dropped_iterations
  targetRate: z.number().nonnegative().optional(), // iterations/s the executor asked for during this second
});
export type LoadRecord = z.infer<typeof LoadRecordSchema>;

const event = <T extends string, D extends z.ZodTypeAny>(type: T, data: D) =>
  z.object({ kind: z.literal('event'), t: z.number().int(), source: z.string(), type: z.literal(type), data });

export const TimelineEventSchema = z.discriminatedUnion('type', [
  event('run.start', z.object({ runId: z.string(), cluster: z.string(), profile: z.string(), steps: z.array(z.string()) })),
  event('run.end', z.object({ status: z.enum(['completed', 'aborted', 'invalid']), reason: z.string().optional() })),
  event('step.start', z.object({ step: z.string(), scenario: z.string(), durationS: z.number().nonnegative() })),
  event('step.end', z.object({ step: z.string(), ok: z.boolean(), reason: z.string().optional() })),
  // A named stretch of a scenario (ramp, spike, steady, recovery...), for per-phase judgements.
  event('phase', z.object({ step: z.string(), name: z.string(), state: z.enum(['start', 'end']) })),
  event('action.start', z.object({ action: z.enum(['rollout', 'kill', 'failover', 'scale']), detail: z.record(z.string(), z.unknown()).optional() })),
  event('action.end', z.object({ action: z.enum(['rollout', 'kill', 'failover', 'scale']), ok: z.boolean(), error: z.string().optional() })),
  event('replicas', z.object({ desired: z.number().int().nonnegative(), ready: z.number().int().nonnegative() })),
  event('pod.start', z.object({ pod: z.string(), version: z.string() })),
  event('pod.ready', z.object({ pod: z.string(), version: z.string() })),
  event('pod.stop', z.object({ pod: z.string(), reason: z.enum(['scale-down', 'rollout', 'killed', 'exited', 'teardown']), exitCode: z.number().int().nullable().optional() })),
  event('hpa', z.object({ current: z.number().int().nonnegative(), desired: z.number().int().nonnegative(), cpuPercent: z.number().nullable(), memoryPercent: z.number().nullable().optional() })),
  event('db.role', z.object({ member: z.string(), role: z.enum(['primary', 'replica', 'down']) })),
  event('rollout', z.object({ from: z.string(), to: z.string(), state: z.enum(['start', 'progress', 'complete', 'failed']), updated: z.number().int(), total: z.number().int() })),
  // After the load: which acknowledged writes the database no longer has.
  event('writes.audit', z.object({ acknowledged: z.number().int().nonnegative(), missing: z.number().int().nonnegative(), missingIds: z.array(z.string()) })),
  // Server-side latency from the service's own histogram (Prometheus), over [from, t].
  event('server.latency', z.object({ from: z.number().int(), p95Ms: z.number().nullable(), requests: z.number().nonnegative() })),
  event('observability', z.object({ signal: z.enum(['traces', 'metrics', 'logs']), ok: z.boolean(), detail: z.string() })),
  event('loadgen', z.object({ state: z.enum(['saturated', 'aborted']), reason: z.string() })),
]);
export type TimelineEvent = z.infer<typeof TimelineEventSchema>;
export type EventType = TimelineEvent['type'];
export type EventOf<T extends EventType> = Extract<TimelineEvent, { type: T }>;

export const TimelineRecordSchema = z.union([LoadRecordSchema, TimelineEventSchema]);
export type TimelineRecord = LoadRecord | TimelineEvent;

export const TIMELINE_FILE = 'timeline.jsonl';

/** Appends records as they happen, so a crash mid-run still leaves everything up to the crash on disk. */
export class TimelineWriter {
  constructor(private readonly file: string) {}

  write(record: TimelineRecord): void {
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }

  event<T extends EventType>(type: T, source: string, data: EventOf<T>['data'], t = Date.now()): void {
    this.write({ kind: 'event', t: Math.round(t), source, type, data } as TimelineEvent);
  }
}

/** Reads and validates a whole timeline, sorted by time. Line numbers in errors point at the bad record. */
export function readTimeline(file: string): TimelineRecord[] {
  if (!existsSync(file)) throw errors.SLO_ERR_RUN_DIR_INVALID(`no timeline at ${file}`, 'pass a folder written by `slo run`');
  const lines = readFileSync(file, 'utf8').split('\n');
  const records: TimelineRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // A crash can cut the last line short; anything earlier is corruption.
      if (index >= lines.length - 2) return;
      throw errors.SLO_ERR_TIMELINE_INVALID(`${file}:${index + 1} is not JSON`);
    }
    const parsed = TimelineRecordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw errors.SLO_ERR_TIMELINE_INVALID(`${file}:${index + 1} ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
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

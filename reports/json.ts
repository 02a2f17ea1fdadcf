// report.json: the machine-readable report. Versioned, with its zod schema exported, because later runs read
// it back (`slo verify`, `--baseline`): a reader must be able to tell an old shape from a broken file.
// Bump REPORT_SCHEMA_VERSION on any change an older reader could misread, and keep reading the old one.
// Fields added since version 1 first shipped (exitCode, reason, slos, errorBudgets, faults, provenance,
// loadOverTime, load.byName) are optional in the schema: an older reader ignores them, and this reader
// still takes a version 1 report written before them.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { errors } from '../contract/errors.ts';
import type { Verdict } from '../verifiers/types.ts';
import type { ReportSummary } from './summary.ts';
import { countByStatus } from './format.ts';
import type { ReportInput } from './types.ts';

export const REPORT_SCHEMA_VERSION = 1;
export const REPORT_JSON_FILE = 'report.json';

const counts = z.record(z.string(), z.number());
const nullableNumber = z.number().nullable();

export const VerdictSchema = z.object({
  id: z.string(),
  slo: z.string(),
  status: z.enum(['pass', 'fail', 'invalid']),
  measured: nullableNumber,
  threshold: z.object({ op: z.enum(['<', '<=', '>', '>=', '==']), value: z.number(), unit: z.string() }),
  window: z.object({ from: z.number(), to: z.number(), label: z.string() }),
  evidence: z.object({
    samples: z.number(),
    notes: z.array(z.string()),
    detail: z.record(z.string(), z.unknown()).optional(),
  }),
  reason: z.string().optional(),
});

export const LoadSummarySchema = z.object({
  seconds: z.number(),
  requests: z.number(),
  failed: z.number(),
  dropped: z.number(),
  iterations: z.number(),
  errorRatePercent: nullableNumber,
  rps: z.object({ mean: z.number(), min: z.number(), max: z.number() }).nullable(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() }).nullable(),
  worstSecond: z.object({ t: z.number(), p99Ms: z.number() }).nullable(),
  secondsWithErrors: z.number(),
  errors: counts,
  status: counts,
  versions: counts,
  byName: z.array(z.object({
    name: z.string(),
    requests: z.number(),
    failed: z.number(),
    errorRatePercent: nullableNumber,
    p50Ms: nullableNumber,
    p95Ms: nullableNumber,
    p99Ms: nullableNumber,
    latencySamples: z.number(),
  })).optional(),
});

const ThresholdSchema = z.object({ op: z.enum(['<', '<=', '>', '>=', '==']), value: z.number(), unit: z.string() });
const MarginSchema = z.object({ value: z.number(), percent: nullableNumber }).nullable();

export const SloRowSchema = z.object({
  id: z.string(),
  slo: z.string(),
  area: z.string(),
  status: z.enum(['pass', 'fail', 'invalid']),
  measured: nullableNumber,
  threshold: ThresholdSchema,
  margin: MarginSchema,
  samples: z.number(),
  window: z.object({ from: z.number(), to: z.number(), label: z.string(), seconds: z.number() }),
  reason: z.string().optional(),
  baseline: z.object({
    measured: nullableNumber,
    delta: nullableNumber,
    changePercent: nullableNumber,
    direction: z.enum(['better', 'worse', 'same']).nullable(),
    regression: z.boolean(),
  }).optional(),
});

export const ErrorBudgetSchema = z.object({
  id: z.string(),
  slo: z.string(),
  status: z.enum(['pass', 'fail', 'invalid']),
  requests: z.number(),
  allowedPercent: z.number(),
  allowed: z.number(),
  used: z.number(),
  usedWhat: z.enum(['failed requests', 'unavailable requests']),
  usedPercent: nullableNumber,
});

export const FaultSchema = z.object({
  key: z.string(),
  action: z.enum(['rollout', 'kill', 'failover', 'scale']),
  what: z.string(),
  start: z.number(),
  end: nullableNumber,
  ok: z.boolean().nullable(),
  error: z.string().optional(),
  recovered: z.object({ t: z.number(), what: z.string() }).nullable(),
  recoverS: nullableNumber,
  window: z.object({ from: z.number(), to: z.number() }),
  requests: z.number(),
  failed: z.number(),
  failures: counts,
  lostWrites: z.discriminatedUnion('state', [
    z.object({ state: z.literal('audited'), missing: z.number(), acknowledged: z.number() }),
    z.object({ state: z.literal('audit failed'), acknowledged: z.number(), reason: z.string() }),
    z.object({ state: z.literal('not audited') }),
  ]).nullable(),
  judgedBy: z.array(z.object({ id: z.string(), status: z.enum(['pass', 'fail', 'invalid']) })),
});

export const ProvenanceSchema = z.object({
  recorded: z.boolean(),
  harness: z.object({ version: z.string(), commit: z.string().nullable() }),
  target: z.object({ cluster: z.string(), versions: z.record(z.string(), z.string()) }),
  engine: z.string().nullable(),
  profile: z.string(),
  specHash: z.string().nullable(),
  machine: z.object({ cores: z.number(), memoryMiB: z.number(), platform: z.string() }).nullable(),
  startedAt: z.number(),
  endedAt: z.number(),
});

export const LoadSliceSchema = z.object({
  from: z.number(),
  to: z.number(),
  seconds: z.number(),
  askedPerS: nullableNumber,
  achievedPerS: z.number(),
  requestsPerS: z.number(),
  requests: z.number(),
  failed: z.number(),
  dropped: z.number(),
  failures: counts,
  p50Ms: nullableNumber,
  p95Ms: nullableNumber,
  p99Ms: nullableNumber,
});

export const ReportJsonSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: z.number(),
  run: z.object({
    id: z.string(),
    cluster: z.string(),
    profile: z.string(),
    startedAt: z.number(),
    endedAt: z.number(),
    status: z.enum(['completed', 'aborted', 'invalid']),
    reason: z.string().optional(),
    harnessVersion: z.string(),
    steps: z.array(z.string()),
  }),
  /** The headline: an aborted run says ABORTED whatever its verdicts. */
  status: z.enum(['PASS', 'FAIL', 'INVALID', 'ABORTED']),
  /** The exit code that goes with the headline (0 PASS, 1 FAIL, 3 INVALID or ABORTED). */
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]).optional(),
  /** One line: the worst failure, why the run is invalid or aborted, or how close a pass came. */
  reason: z.string().optional(),
  judgement: z.object({
    status: z.enum(['pass', 'fail', 'invalid']),
    counts: z.object({ pass: z.number(), fail: z.number(), invalid: z.number() }),
  }),
  verdicts: z.array(VerdictSchema),
  /** The verdicts as the SLO table shows them, worst first: margin, samples, window length, baseline change. */
  slos: z.array(SloRowSchema).optional(),
  errorBudgets: z.array(ErrorBudgetSchema).optional(),
  faults: z.array(FaultSchema).optional(),
  provenance: ProvenanceSchema.optional(),
  load: LoadSummarySchema,
  loadOverTime: z.object({ sliceS: z.number(), slices: z.array(LoadSliceSchema) }).optional(),
  baseline: z.object({
    runId: z.string(),
    regressions: z.array(z.object({ id: z.string(), measured: z.number(), baseline: z.number(), changePercent: z.number() })),
  }).optional(),
});
export type ReportJson = z.infer<typeof ReportJsonSchema>;

export function buildReportJson(input: ReportInput, summary: ReportSummary, generatedAt = Date.now()): ReportJson {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt,
    run: input.run,
    status: summary.banner.headline,
    exitCode: summary.banner.exitCode as 0 | 1 | 3,
    reason: summary.banner.reason,
    judgement: { status: input.judgement.status, counts: countByStatus(input.judgement.verdicts) },
    verdicts: input.judgement.verdicts,
    slos: summary.slos,
    errorBudgets: summary.errorBudgets,
    faults: summary.faults,
    provenance: summary.provenance,
    load: summary.load,
    loadOverTime: summary.overTime,
    // The baseline's own values stay in its report.json; this one records what it was compared with.
    ...(input.baseline ? { baseline: { runId: input.baseline.runId, regressions: input.baseline.regressions } } : {}),
  };
}

export function renderJson(input: ReportInput, summary: ReportSummary, generatedAt?: number): string {
  return JSON.stringify(buildReportJson(input, summary, generatedAt), null, 2) + '\n';
}

/** Parses a report written by any supported schema version; anything else is SLO_ERR_REPORT_INVALID. */
export function parseReportJson(text: string, origin = 'report.json'): ReportJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw errors.SLO_ERR_REPORT_INVALID(`${origin} is not JSON`, 'pass the report.json written by `slo run`', { cause });
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== REPORT_SCHEMA_VERSION) {
    throw errors.SLO_ERR_REPORT_INVALID(
      `${origin} has schemaVersion ${JSON.stringify(version)}, this harness reads ${REPORT_SCHEMA_VERSION}`,
      'write the report again with `slo verify <run-dir>`',
    );
  }
  const parsed = ReportJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw errors.SLO_ERR_REPORT_INVALID(`${origin} ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function readReportJson(file: string): ReportJson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw errors.SLO_ERR_REPORT_INVALID(`cannot read ${file}`, 'pass the report.json of an earlier run', { cause });
  }
  return parseReportJson(text, file);
}

/** Verdicts read back from a report have exactly the Verdict shape. */
export function verdictsOf(report: ReportJson): Verdict[] {
  return report.verdicts as Verdict[];
}

// report.json: the machine-readable report. Versioned, with its zod schema exported, because later runs read
// it back (`slo verify`, `--baseline`): a reader must be able to tell an old shape from a broken file.
// Bump REPORT_SCHEMA_VERSION on any change an older reader could misread, and keep reading the old one.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { errors } from '../contract/errors.ts';
import type { Verdict } from '../verifiers/types.ts';
import { analyzeLoad } from './series.ts';
import type { LoadSummary } from './series.ts';
import { countByStatus } from './format.ts';
import { headlineOf } from './types.ts';
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
  judgement: z.object({
    status: z.enum(['pass', 'fail', 'invalid']),
    counts: z.object({ pass: z.number(), fail: z.number(), invalid: z.number() }),
  }),
  verdicts: z.array(VerdictSchema),
  load: LoadSummarySchema,
  baseline: z.object({
    runId: z.string(),
    regressions: z.array(z.object({ id: z.string(), measured: z.number(), baseline: z.number(), changePercent: z.number() })),
  }).optional(),
});
export type ReportJson = z.infer<typeof ReportJsonSchema>;

export function buildReportJson(input: ReportInput, load: LoadSummary = analyzeLoad(input.records).summary, generatedAt = Date.now()): ReportJson {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt,
    run: input.run,
    status: headlineOf(input),
    judgement: { status: input.judgement.status, counts: countByStatus(input.judgement.verdicts) },
    verdicts: input.judgement.verdicts,
    load,
    ...(input.baseline ? { baseline: input.baseline } : {}),
  };
}

export function renderJson(input: ReportInput, load?: LoadSummary, generatedAt?: number): string {
  return JSON.stringify(buildReportJson(input, load, generatedAt), null, 2) + '\n';
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

// What real k6 v1.x writes, as pure functions: the `--out csv` header and rows, the `--log-format=json` log lines,
// Go duration strings, and the `k6 inspect --execution-requirements` JSON. The fake k6 (fake-k6.ts) writes with
// these, and tests can build k6 output from them without any k6. Where each fact comes from is noted at each
// function; "k6" below means grafana/k6 (AGPL-3.0), read for its output formats only, never copied or run.

/** Metric sample as k6 hands it to an output: name, time, value and tags (the sample's tag set). */
export interface K6Sample {
  metric: string;
  timeMs: number;
  value: number;
  tags?: Record<string, string>;
}

/**
 * k6's default `systemTags` when `--system-tags` is not given (the columns of the CSV example in k6's docs,
 * https://grafana.com/docs/k6/latest/results-output/real-time/csv/, and lib/options.go DefaultSystemTagSet).
 */
export const DEFAULT_SYSTEM_TAGS = ['proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code', 'tls_version', 'scenario', 'service', 'expected_response'];

/** System tags that k6 never makes columns of: they go to the `metadata` column (metrics.NonIndexableSystemTags). */
const NON_INDEXABLE = new Set(['vu', 'iter']);

/**
 * The tag columns, in k6's order: output/csv `buildTagSets` keeps the enabled system tags but the
 * non-indexable ones and `sort.Strings` them (byte order, so `check` < `error_code` < `expected_response`...).
 */
export function csvTagColumns(systemTags: readonly string[]): string[] {
  return [...new Set(systemTags)].filter((tag) => !NON_INDEXABLE.has(tag)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** output/csv `MakeHeader`: metric_name, timestamp, metric_value, the tag columns, extra_tags, metadata. */
export function csvHeader(tagColumns: readonly string[]): string[] {
  return ['metric_name', 'timestamp', 'metric_value', ...tagColumns, 'extra_tags', 'metadata'];
}

export type CsvTimeFormat = 'unix' | 'unix_milli' | 'unix_micro' | 'unix_nano' | 'rfc3339' | 'rfc3339_nano';
export const CSV_TIME_FORMATS: readonly CsvTimeFormat[] = ['unix', 'unix_milli', 'unix_micro', 'unix_nano', 'rfc3339', 'rfc3339_nano'];

/** output/csv `SampleToRow` timestamp column, per K6_CSV_TIME_FORMAT (default `unix`, whole seconds). */
export function csvTimestamp(timeMs: number, format: CsvTimeFormat): string {
  const ms = Math.floor(timeMs);
  switch (format) {
    case 'unix': return String(Math.floor(ms / 1000));
    case 'unix_milli': return String(ms);
    case 'unix_micro': return String(ms * 1000);
    case 'unix_nano': return `${ms}000000`;
    case 'rfc3339': return rfc3339(new Date(ms));
    case 'rfc3339_nano': return rfc3339(new Date(ms), true);
  }
}

/**
 * One CSV row, as output/csv `SampleToRow` builds it: the value with Go's `%f` (6 decimals), one column per tag
 * column (empty when the sample lacks the tag), the other tags as `k=v&k=v` in extra_tags (in Go map order,
 * that is random: `shuffle` stands for it), and `metadata` (vu/iter, only when enabled; never here).
 */
export function csvRow(sample: K6Sample, tagColumns: readonly string[], format: CsvTimeFormat, shuffle: <T>(items: T[]) => T[] = (items) => items): string[] {
  const tags = sample.tags ?? {};
  const extra = shuffle(Object.entries(tags).filter(([key]) => !tagColumns.includes(key))).map(([key, value]) => `${key}=${value}`).join('&');
  return [sample.metric, csvTimestamp(sample.timeMs, format), sample.value.toFixed(6), ...tagColumns.map((tag) => tags[tag] ?? ''), extra, ''];
}

/** Go encoding/csv `fieldNeedsQuotes` and `Write`: quote a field holding `,`, `"`, CR or LF, or starting with a space. */
export function goCsvLine(fields: readonly string[]): string {
  return `${fields.map((field) => {
    if (field === '') return field;
    if (field === '\\.' || /[",\r\n]/.test(field) || /^[ \t]/.test(field)) return `"${field.replace(/"/g, '""')}"`;
    return field;
  }).join(',')}\n`;
}

/** Go `time.RFC3339` (what logrus' JSONFormatter writes by default): local time with its offset, `Z` in UTC. */
export function rfc3339(date: Date, nano = false): string {
  const offsetMin = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMin * 60_000);
  const base = local.toISOString().slice(0, 19);
  const fraction = nano && date.getMilliseconds() !== 0 ? `.${String(date.getMilliseconds()).padStart(3, '0').replace(/0+$/, '')}` : '';
  if (offsetMin === 0) return `${base}${fraction}Z`;
  const sign = offsetMin > 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${base}${fraction}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * One `--log-format=json` line: k6 logs through logrus with its JSONFormatter, which writes the fields of the
 * entry plus `level`, `msg` and `time` as one JSON object with its keys sorted (encoding/json of a map).
 * `console.log` adds `"source":"console"` (js/console.go).
 */
export function jsonLogLine(level: 'debug' | 'info' | 'warning' | 'error' | 'fatal', msg: string, fields: Record<string, string> = {}, now = new Date()): string {
  const entry: Record<string, string> = { ...fields, level, msg, time: rfc3339(now) };
  const sorted = Object.fromEntries(Object.keys(entry).sort().map((key) => [key, entry[key]]));
  return `${JSON.stringify(sorted)}\n`;
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go `time.ParseDuration` (k6 also takes a bare number of milliseconds for its duration options), in ms. */
export function parseGoDurationMs(text: string | number): number {
  if (typeof text === 'number') return text;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? 's'] ?? 0);
    matched += m[0];
  }
  if (matched === '' || matched !== text) throw new Error(`time: invalid duration "${text}"`);
  return total;
}

const trimNumber = (n: number) => String(Number(n.toFixed(9)));

/** Go `time.Duration.String()`, which k6 uses to print durations in JSON: "5s", "1m30s", "1h0m0s", "250ms". */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${goDuration(-ms)}`;
  if (ms < 1e-3) return `${trimNumber(ms * 1e6)}ns`;
  if (ms < 1) return `${trimNumber(ms * 1e3)}µs`;
  if (ms < 1000) return `${trimNumber(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms - hours * 3_600_000 - minutes * 60_000) / 1000;
  let out = `${trimNumber(seconds)}s`;
  if (hours > 0 || minutes > 0) out = `${minutes}m${out}`;
  if (hours > 0) out = `${hours}h${out}`;
  return out;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type RawScenario = Record<string, unknown>;

/** Duration fields of the executor configs (lib/executor/*_config: types.NullDuration, printed with String()). */
const DURATION_FIELDS = ['startTime', 'gracefulStop', 'gracefulRampDown', 'timeUnit', 'duration', 'maxDuration'];

const durationOrNull = (value: unknown): string | null => (value === undefined || value === null ? null : goDuration(parseGoDurationMs(value as string | number)));

/**
 * One scenario as k6 prints it: lib/executor BaseConfig first (executor, startTime, gracefulStop, env, exec,
 * tags), then the executor's own fields (struct order), unset ones null, durations as Go duration strings.
 */
function scenarioJson(raw: RawScenario): Record<string, Json> {
  const base: Record<string, Json> = {
    executor: (raw.executor as string | undefined) ?? null,
    startTime: durationOrNull(raw.startTime),
    gracefulStop: durationOrNull(raw.gracefulStop ?? '30s'),
    env: (raw.env as Json | undefined) ?? null,
    exec: (raw.exec as string | undefined) ?? null,
    tags: (raw.tags as Json | undefined) ?? null,
  };
  const own: Record<string, string[]> = {
    'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
    'ramping-arrival-rate': ['startRate', 'timeUnit', 'preAllocatedVUs', 'maxVUs', 'stages'],
    'constant-vus': ['vus', 'duration'],
    'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
    'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
    'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  };
  for (const field of own[String(raw.executor)] ?? []) {
    const value = raw[field];
    if (field === 'stages') {
      base.stages = Array.isArray(value) ? value.map((s: { duration: string | number; target: number }) => ({ duration: goDuration(parseGoDurationMs(s.duration)), target: s.target })) : null;
    } else if (DURATION_FIELDS.includes(field)) {
      base[field] = durationOrNull(value ?? (field === 'timeUnit' ? '1s' : undefined));
    } else {
      base[field] = (value as Json | undefined) ?? null;
    }
  }
  return base;
}

/** When a scenario's last iteration may end: start + length + graceful stop (lib.GetEndOffset of its execution plan). */
function scenarioEndMs(raw: RawScenario): number {
  const start = parseGoDurationMs((raw.startTime as string | undefined) ?? '0s');
  const graceful = parseGoDurationMs((raw.gracefulStop as string | undefined) ?? '30s');
  const stages = Array.isArray(raw.stages) ? (raw.stages as Array<{ duration: string | number }>) : null;
  const length = stages ? stages.reduce((sum, s) => sum + parseGoDurationMs(s.duration), 0) : parseGoDurationMs((raw.duration as string | undefined) ?? (raw.maxDuration as string | undefined) ?? '0s');
  return start + length + graceful;
}

/**
 * `k6 inspect --execution-requirements`: cmd/inspect.go prints, indented by two spaces, the consolidated
 * lib.Options (every field, null when unset; the list and order as printed in grafana/k6 issue #3890) with
 * `totalDuration` and `maxVUs` appended (without --execution-requirements, lib.Options alone). The fake fills
 * what a script's `options` set and leaves the rest null.
 */
export function inspectOutput(options: Record<string, unknown>, executionRequirements = true): string {
  const scenarios = (options.scenarios as Record<string, RawScenario> | undefined) ?? null;
  const pick = (key: string): Json => (options[key] as Json | undefined) ?? null;
  const out: Record<string, Json> = {
    paused: pick('paused'), vus: pick('vus'), duration: pick('duration'), iterations: pick('iterations'), stages: pick('stages'),
    scenarios: scenarios ? Object.fromEntries(Object.entries(scenarios).map(([name, raw]) => [name, scenarioJson(raw)])) : null,
    executionSegment: null, executionSegmentSequence: null, noSetup: null, setupTimeout: null, noTeardown: null, teardownTimeout: null,
    rps: null, dns: { ttl: null, select: null, policy: null }, maxRedirects: null, userAgent: null, batch: null, batchPerHost: null,
    httpDebug: null, insecureSkipTLSVerify: null, tlsCipherSuites: null, tlsVersion: null, tlsAuth: null, throw: null,
    thresholds: pick('thresholds'), blacklistIPs: null, blockHostnames: null, hosts: null, noConnectionReuse: null,
    noVUConnectionReuse: null, minIterationDuration: null, ext: pick('ext'), summaryTrendStats: pick('summaryTrendStats'),
    summaryTimeUnit: null, systemTags: pick('systemTags'), tags: pick('tags'), metricSamplesBufferSize: null,
    noCookiesReset: null, discardResponseBodies: null,
  };
  if (executionRequirements) {
    out.totalDuration = goDuration(Math.max(0, ...Object.values(scenarios ?? {}).map(scenarioEndMs)));
    out.maxVUs = Object.values(scenarios ?? {}).reduce((sum, s) => sum + Number(s.maxVUs ?? s.vus ?? 0), 0);
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}

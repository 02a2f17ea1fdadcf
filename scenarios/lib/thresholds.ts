// k6 thresholds generated from the SLO numbers, so a threshold is never typed twice. Pure: the runner
// builds SLO_THRESHOLDS with `thresholdsFromSlo`, the scripts read it back with `parseThresholds`.
// The harness judges SLOs itself from the timeline; k6 thresholds only make a bare `k6 run` meaningful.

export type Thresholds = Record<string, string[]>;

export function thresholdsFromSlo(slo: { p95Ms: number; errorRatePercent: number }): Thresholds {
  return {
    http_req_duration: [`p(95)<${slo.p95Ms}`],
    http_req_failed: [`rate<${slo.errorRatePercent / 100}`],
  };
}

/** Parses SLO_THRESHOLDS; an absent or empty value means no thresholds. Throws on anything malformed. */
export function parseThresholds(json: string | undefined): Thresholds {
  if (json === undefined || json.trim() === '') return {};
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('SLO_THRESHOLDS must be a JSON object');
  const out: Thresholds = {};
  for (const [metric, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`SLO_THRESHOLDS.${metric} must be an array of strings`);
    out[metric] = list as string[];
  }
  return out;
}

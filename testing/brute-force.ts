// Reference implementations the tests compare the fast paths against.

/** Nearest-rank percentile of whole microseconds, the definition HDR histograms approximate. */
export function bruteForcePercentileMs(valuesMs: readonly number[], percentile: number): number {
  const us = valuesMs.map((v) => Math.max(0, Math.round(v * 1000))).sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percentile / 100) * us.length));
  return us[rank - 1]! / 1000;
}

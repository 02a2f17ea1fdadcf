// How far a measured value is from its threshold, signed the same way for every kind of objective: positive
// is headroom left, negative is past the threshold. "p95 41 ms against < 200 ms" has +159 ms (+79.5 %);
// "availability 99.75 % against >= 99.9 %" has -0.15 percentage points. An exact objective (== 0 lost
// writes) has no headroom: 0 when met, minus the distance when not.
import type { Threshold } from '../verifiers/types.ts';

export interface Margin {
  /** In the threshold's unit (percentage points for a '%' threshold); + headroom, - past the threshold. */
  value: number;
  /** The same relative to the threshold, in %; null when the threshold is 0 (no scale to compare with). */
  percent: number | null;
}

/** Null when there is nothing to measure against: no measured value, or a true/false objective. */
export function marginOf(measured: number | null, threshold: Threshold): Margin | null {
  if (measured === null || threshold.unit === 'bool') return null;
  let value: number;
  switch (threshold.op) {
    case '<':
    case '<=':
      value = threshold.value - measured;
      break;
    case '>':
    case '>=':
      value = measured - threshold.value;
      break;
    case '==':
      value = -Math.abs(measured - threshold.value);
      break;
  }
  // Rounded like the measured values (three decimals), so 200 - 199.9 reads 0.1 and not 0.09999999.
  value = Number(value.toFixed(6));
  return { value, percent: threshold.value === 0 ? null : (value / Math.abs(threshold.value)) * 100 };
}

/** The unit a margin is written in: the threshold's, except percentage points for a percentage. */
export function marginUnit(unit: string): string {
  return unit === '%' ? 'pp' : unit;
}

/**
 * How bad a failure is, for picking the worst one: the relative overshoot (more negative is worse). Any
 * overshoot of a zero threshold (2 lost writes of 0 allowed) counts as the worst; a failure without a
 * margin (no data, a false check) ranks after every measured overshoot.
 */
export function severityOf(margin: Margin | null): number {
  if (margin === null || margin.value >= 0) return Number.POSITIVE_INFINITY;
  return margin.percent ?? Number.NEGATIVE_INFINITY;
}

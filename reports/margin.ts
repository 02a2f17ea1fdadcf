// How far a measured value is from its threshold, signed the same way for every kind of objective: positive
// is headroom left, negative is past the threshold. "p95 41 ms against < 200 ms" has +159 ms (+79.5 %);
// "availability 99.75 % against >= 99.9 %" has -0.15 percentage points. An exact objective (== 0 lost
// writes) has no headroom: 0 when met, minus the distance when not.
//
// The relative figure is the margin as a share of the room the objective allows: the threshold itself for
// an upper bound (p95 < 200 ms: 0..200 ms; error rate < 1 %: 0..1 %), but for a minimum percentage the
// room between it and 100 % (availability >= 99.9 % allows 0.1 percentage points). Relative to 99.9 itself,
// an availability of 99.56 % would read "-0.34 %", as if it were nearly met; against its room it reads
// "-339 %": it used more than four times what it was allowed, as the error budget says.
import type { Threshold } from '../verifiers/types.ts';

export interface Margin {
  /** In the threshold's unit (percentage points for a '%' threshold); + headroom, - past the threshold. */
  value: number;
  /** The same as a share of the room the objective allows, in %; null when there is none (a threshold of 0). */
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
  const room = roomOf(threshold);
  return { value, percent: room === 0 ? null : (value / room) * 100 };
}

/** The size of what the objective allows: see the top of this file. */
export function roomOf(threshold: Threshold): number {
  const minimumPercent = threshold.unit === '%' && (threshold.op === '>=' || threshold.op === '>');
  return minimumPercent ? Math.max(0, 100 - threshold.value) : Math.abs(threshold.value);
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

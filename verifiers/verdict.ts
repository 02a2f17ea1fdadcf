// Building verdicts the same way everywhere: a measured value against a threshold, or a failure that says
// why nothing could be measured. Not enough data is never a pass.
import type { Threshold, Verdict } from './types.ts';

export interface VerdictInput {
  id: string;
  slo: string;
  measured: number | null;
  threshold: Threshold;
  window: Verdict['window'];
  samples: number;
  notes?: string[];
  detail?: Record<string, unknown>;
  /** Set to fail (or mark invalid) for a reason the comparison cannot see, e.g. the action itself failed. */
  failure?: string;
  /** Verdicts that judge the run itself (not the service) are 'invalid' instead of 'fail'. */
  failStatus?: 'fail' | 'invalid';
}

export function meets(measured: number, threshold: Threshold): boolean {
  switch (threshold.op) {
    case '<':
      return measured < threshold.value;
    case '<=':
      return measured <= threshold.value;
    case '>':
      return measured > threshold.value;
    case '>=':
      return measured >= threshold.value;
    case '==':
      return measured === threshold.value;
  }
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export function verdict(input: VerdictInput): Verdict {
  const { threshold } = input;
  const evidence: Verdict['evidence'] = { samples: input.samples, notes: input.notes ?? [] };
  if (input.detail) evidence.detail = input.detail;
  const base = { id: input.id, slo: input.slo, threshold, window: input.window, evidence };
  const failStatus = input.failStatus ?? 'fail';
  if (input.measured === null) {
    return { ...base, status: failStatus, measured: null, reason: input.failure ?? 'not enough data to judge' };
  }
  const measured = round(input.measured);
  if (input.failure) return { ...base, status: failStatus, measured, reason: input.failure };
  if (!meets(measured, threshold)) {
    return { ...base, status: failStatus, measured, reason: `measured ${measured} ${threshold.unit}, needs ${threshold.op} ${threshold.value} ${threshold.unit}` };
  }
  return { ...base, status: 'pass', measured };
}

/** Time of an event as a note: seconds since the run started, and the ISO time to find it in the file. */
export function at(t: number, runFrom: number): string {
  return `+${round((t - runFrom) / 1000, 1)}s (${new Date(t).toISOString()})`;
}

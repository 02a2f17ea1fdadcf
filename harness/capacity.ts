// Capacity search for pre-release checks: the highest arrival rate at which the latency and error-rate
// SLOs still hold. Rates grow geometrically until one fails, then the gap is bisected down to a
// resolution. Each probe is judged by the same verifiers as a run, on that probe's stretch of timeline.
import type { TimelineRecord } from '../contract/timeline.ts';
import type { SloSpec } from '../contract/spec.ts';
import { verify } from '../verifiers/index.ts';

export type ProbeOutcome = 'pass' | 'fail' | 'invalid';

export interface CapacityResult {
  /** Highest rate that held the SLOs; null when even the lowest failed. */
  highestPassing: number | null;
  /** Lowest rate seen failing; null when the highest tried still passed. */
  lowestFailing: number | null;
  /** Set when the load generator itself could not produce a rate: the search stops there. */
  invalidAt: number | null;
  probes: Array<{ rate: number; outcome: ProbeOutcome }>;
}

export interface CapacitySearch {
  from: number;
  to: number;
  growth?: number;
  resolutionPercent?: number;
  maxProbes?: number;
}

export async function findCapacity(probe: (rate: number) => Promise<ProbeOutcome>, search: CapacitySearch): Promise<CapacityResult> {
  const growth = search.growth ?? 2;
  const resolution = (search.resolutionPercent ?? 10) / 100;
  const maxProbes = search.maxProbes ?? 10;
  const probes: CapacityResult['probes'] = [];
  let good: number | null = null;
  let bad: number | null = null;
  const run = async (rate: number): Promise<ProbeOutcome> => {
    const outcome = await probe(rate);
    probes.push({ rate, outcome });
    return outcome;
  };

  for (let rate = search.from; probes.length < maxProbes; rate = Math.min(search.to, Math.round(rate * growth))) {
    const outcome = await run(rate);
    if (outcome === 'invalid') return { highestPassing: good, lowestFailing: bad, invalidAt: rate, probes };
    if (outcome === 'fail') { bad = rate; break; }
    good = rate;
    if (rate >= search.to) break;
  }
  while (good !== null && bad !== null && (bad - good) / good > resolution && probes.length < maxProbes) {
    const middle = Math.round((good + bad) / 2);
    if (middle === good || middle === bad) break;
    const outcome = await run(middle);
    if (outcome === 'invalid') return { highestPassing: good, lowestFailing: bad, invalidAt: middle, probes };
    if (outcome === 'pass') good = middle;
    else bad = middle;
  }
  return { highestPassing: good, lowestFailing: bad, invalidAt: null, probes };
}

const CAPACITY_VERDICTS = /^(latency\.p95$|errorRate\.|run\.|loadgen\.)/;

/** Judges one probe from its records alone: latency and error rate, and whether the load was valid. */
export function judgeProbe(records: TimelineRecord[], spec: SloSpec): ProbeOutcome {
  const verdicts = verify(records, spec).verdicts.filter((v) => CAPACITY_VERDICTS.test(v.id));
  if (verdicts.some((v) => v.status === 'invalid')) return 'invalid';
  return verdicts.every((v) => v.status === 'pass') ? 'pass' : 'fail';
}

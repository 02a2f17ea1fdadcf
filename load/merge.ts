// Merges the per-second records of several load generators (k6-operator runners, or several local k6) into
// one record per second. Latency merges as histograms, so a merged p95 is the p95 of all requests, never
// an average of percentiles.
import type { LoadRecord } from '../contract/timeline.ts';
import { createHistogram, encodeHistogram, readLatency } from '../contract/histogram.ts';

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

/** One record per (second, step); `source` names the merged generator. Input order does not matter. */
export function mergeLoadRecords(records: readonly LoadRecord[], source = 'merged'): LoadRecord[] {
  const groups = new Map<string, LoadRecord[]>();
  for (const r of records) {
    const key = `${r.t}|${r.step ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const merged: LoadRecord[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const latency = createHistogram();
    const byNameLatency: Record<string, ReturnType<typeof createHistogram>> = {};
    const out: LoadRecord = {
      kind: 'load', t: first.t, source, requests: 0, failed: 0, status: {}, errors: {}, latencyUs: '',
      byName: {}, versions: {}, instances: {}, iterations: 0, dropped: 0,
    };
    if (first.step !== undefined) out.step = first.step;
    let target: number | undefined;
    for (const r of group) {
      out.requests += r.requests;
      out.failed += r.failed;
      out.iterations += r.iterations;
      out.dropped += r.dropped;
      addCounts(out.status, r.status);
      addCounts(out.errors, r.errors);
      addCounts(out.versions, r.versions);
      addCounts(out.instances, r.instances);
      for (const [name, c] of Object.entries(r.byName)) {
        const entry = (out.byName[name] ??= { requests: 0, failed: 0 });
        entry.requests += c.requests;
        entry.failed += c.failed;
        if (c.latencyUs !== undefined) {
          const own = (byNameLatency[name] ??= createHistogram());
          const decoded = readLatency(c.latencyUs);
          if (decoded) own.add(decoded);
        }
      }
      const decoded = readLatency(r.latencyUs);
      if (decoded) latency.add(decoded);
      // Each runner asks for its own segment of the rate; the total asked is the sum.
      if (r.targetRate !== undefined) target = (target ?? 0) + r.targetRate;
    }
    out.latencyUs = encodeHistogram(latency);
    for (const [name, histogram] of Object.entries(byNameLatency)) out.byName[name]!.latencyUs = encodeHistogram(histogram);
    if (target !== undefined) out.targetRate = target;
    merged.push(out);
  }
  return merged.sort((a, b) => a.t - b.t || (a.step ?? '').localeCompare(b.step ?? ''));
}

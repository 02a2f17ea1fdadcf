// What rate a script asks for, read from its resolved options (`k6 inspect --execution-requirements`), so
// any script, built-in or brought by the user, is judged against its own executors.
import type { AskedPlan, ScenarioRate } from '../asked-rate.ts';

/** Go duration strings as k6 prints them: "1m30s", "900ms", "1.5s", "2h". */
export function parseGoDuration(text: string | number | null | undefined): number {
  if (typeof text === 'number') return text / 1000; // k6 accepts a number of milliseconds
  if (!text) return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g;
  let matched = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 0);
    matched += m[0];
  }
  if (matched !== text) throw new Error(`not a duration: ${text}`);
  return total;
}

type RawScenario = Record<string, unknown> & { executor?: string };

export function executionPlanFromOptions(options: { scenarios?: Record<string, RawScenario> | null; duration?: string | null }): AskedPlan {
  const scenarios = Object.values(options.scenarios ?? {});
  if (scenarios.length === 0) return { totalS: parseGoDuration(options.duration ?? null), rates: null };
  let totalS = 0;
  let rates: ScenarioRate[] | null = [];
  for (const s of scenarios) {
    const startS = parseGoDuration(s.startTime as string | null);
    const perS = 1 / Math.max(1e-9, parseGoDuration((s.timeUnit as string | null) ?? '1s'));
    const rawStages = (s.stages as Array<{ duration: string; target: number }> | null) ?? [];
    const stages = rawStages.map((st) => ({ target: st.target * perS, durationS: parseGoDuration(st.duration) }));
    let lengthS = parseGoDuration(s.duration as string | null);
    if (stages.length > 0) lengthS = stages.reduce((sum, st) => sum + st.durationS, 0);
    totalS = Math.max(totalS, startS + lengthS);
    if (s.executor === 'constant-arrival-rate') {
      const rate = Number(s.rate) * perS;
      rates?.push({ startS, startRate: rate, stages: [{ target: rate, durationS: lengthS }] });
    } else if (s.executor === 'ramping-arrival-rate') {
      rates?.push({ startS, startRate: Number(s.startRate ?? 0) * perS, stages });
    } else {
      rates = null;
    }
  }
  return { totalS, rates };
}

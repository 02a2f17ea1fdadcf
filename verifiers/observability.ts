// Observability: each signal the spec asks for (traces, metrics, logs) was checked during the run and found
// present. The latest check of a signal decides; no check at all is a failure, not a pass.
import type { SloSpec } from '../contract/spec.ts';
import type { RunContext } from './run-context.ts';
import type { Verdict } from './types.ts';
import { at, verdict } from './verdict.ts';

const SIGNALS = ['traces', 'metrics', 'logs'] as const;

export function verifyObservability(ctx: RunContext, spec: SloSpec): Verdict[] {
  return SIGNALS.filter((signal) => spec.slos.observability[signal]).map((signal) => {
    const checks = ctx.events('observability').filter((e) => e.data.signal === signal);
    const latest = checks.at(-1);
    return verdict({
      id: `observability.${signal}`,
      slo: `${signal} are present`,
      measured: latest ? (latest.data.ok ? 1 : 0) : null,
      threshold: { op: '==', value: 1, unit: 'bool' },
      window: { from: ctx.from, to: ctx.to, label: 'whole run' },
      samples: checks.length,
      notes: checks.map((e) => `${at(e.t, ctx.from)} ${e.data.ok ? 'ok' : 'missing'}: ${e.data.detail}`),
      ...(latest ? (latest.data.ok ? {} : { failure: `${signal} missing: ${latest.data.detail}` }) : { failure: `no ${signal} check ran` }),
    });
  });
}

// Self-healing, judged only when a kill ran: from the kill to its replacement becoming ready. The replacement
// is a pod that started at or after the kill (a restart may reuse the killed pod's name, as a local process
// does) and, where the timeline names owners, of the killed pod's owner. A pod that was already starting when
// the kill came (the autoscaler's, during a spike) and happens to become ready just after it replaces nothing:
// counting it measured 0.2 s on the embedded cluster where the real replacement took 3.1 s.
import type { SloSpec } from '../contract/spec.ts';
import { endOf } from './failover.ts';
import type { RunContext } from './run-context.ts';
import type { Threshold, Verdict } from './types.ts';
import { at, verdict } from './verdict.ts';

export function verifySelfHealing(ctx: RunContext, spec: SloSpec): Verdict[] {
  const threshold: Threshold = { op: '<=', value: spec.slos.selfHealing.maxReplaceS, unit: 's' };
  const kills = ctx.events('action.start').filter((e) => e.data.action === 'kill');
  return kills.map((kill, i) => {
    const asked = kill.data.detail?.['pod'];
    const stop = ctx.events('pod.stop').find((e) => e.t >= kill.t && e.data.reason === 'killed' && (typeof asked !== 'string' || e.data.pod === asked));
    const pod = stop?.data.pod ?? (typeof asked === 'string' ? asked : undefined);
    const after = stop?.t ?? kill.t;
    const starts = ctx.events('pod.start');
    const owner = starts.find((e) => e.data.pod === pod && e.data.owner)?.data.owner;
    const startedSinceKill = (name: string) => {
      const own = starts.filter((e) => e.data.pod === name);
      return own.length === 0 || own.some((e) => e.t >= kill.t);
    };
    const ready = ctx.events('pod.ready').find((e) => e.t > after && startedSinceKill(e.data.pod)
      && (!owner || !e.data.owner || e.data.owner === owner));
    const end = endOf(ctx, kill);
    let failure: string | undefined;
    if (end && !end.data.ok) failure = `the kill action failed: ${end.data.error ?? 'no error given'}`;
    else if (!ready) failure = `no pod became ready after ${pod ?? 'the killed pod'} was killed`;
    return verdict({
      id: i === 0 ? 'selfHealing.replace' : `selfHealing.replace.${i + 1}`,
      slo: `a killed pod is replaced within ${threshold.value} s`,
      measured: ready ? (ready.t - kill.t) / 1000 : null,
      threshold,
      window: { from: kill.t, to: ready?.t ?? ctx.to, label: 'kill to replacement ready' },
      samples: ready ? 1 : 0,
      notes: [
        `kill ${at(kill.t, ctx.from)}${pod ? ` of ${pod}` : ''}`,
        stop ? `${stop.data.pod} stopped ${at(stop.t, ctx.from)}` : 'no pod.stop (killed) event',
        ...(ready ? [`${ready.data.pod} (${ready.data.version}) ready ${at(ready.t, ctx.from)}`] : []),
      ],
      ...(failure ? { failure } : {}),
    });
  });
}

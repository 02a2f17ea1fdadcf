// The real orchestration (runSuite: engine, action schedule, evidence, reports) on the kube adapter, against
// the Kubernetes API stand-in (an in-process HTTP server, NOT a real cluster) and the stand-in service. It
// proves who writes what: every action is framed by exactly one action.start and one action.end, written by
// the harness, and the actions fire on the load's own clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../contract/spec.ts';
import { eventsOf, TIMELINE_FILE } from '../contract/timeline.ts';
import { runSuite } from '../harness/run-suite.ts';
import { readTimeline } from '../harness/timeline-file.ts';
import { EmbeddedEngine } from '../load/embedded-engine.ts';
import { ensureEmbeddedEngine } from '../load/embedded-build.ts';
import { startKubeStandin, type KubeStandin } from '../testing/kube-standin/server.ts';
import { COLLECTIONS, deployment, hpa, namespace, pod } from '../testing/kube-standin/fixtures.ts';
import { specFromYaml } from '../testing/spec.ts';
import { startStandInService, type StandInService } from '../testing/stand-in-service.ts';

let standin: KubeStandin;
let service: StandInService;
const scratch = mkdtempSync(join(tmpdir(), 'slo-orchestration-kube-'));

beforeAll(async () => {
  standin = await startKubeStandin();
  service = await startStandInService();
});

afterAll(async () => {
  await service?.close();
  await standin?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const SPEC = `
version: 1
slos:
  observability: { traces: false, metrics: false, logs: false }
profiles:
  tiny: { timeScale: 1, autoscalerSyncS: 1, rateScale: 1 }
suite:
  steps:
    - name: steady
      scenario: sustained
      durationS: 5
      rates: { base: 10, peak: 10 }
      weights: { read: 100, write: 0, cpu: 0 }
      actions: [{ at: "1s", do: kill }, { at: "2s", do: scale, replicas: 4 }]
`;

describe('actions through the real orchestration on the kube adapter', () => {
  it('writes exactly one action.start and one action.end per action, from the harness, on the load clock', async () => {
    const ns = 'orchestrated';
    standin.put(COLLECTIONS.namespaces, namespace(ns, { 'slo-harness.io/disruptions': 'allowed' }));
    standin.put(COLLECTIONS.deployments, deployment(ns));
    for (const i of [1, 2, 3]) standin.put(COLLECTIONS.pods, pod(ns, `app-v1-${i}`, { ready: true, createdAt: new Date(Date.now() - 3_600_000) }));
    standin.put(COLLECTIONS.hpas, hpa(ns, 3, 3, 12));
    const kubeconfig = join(scratch, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: standin',
      'clusters:', '- name: standin', `  cluster: { server: "${standin.url}", insecure-skip-tls-verify: true }`,
      'users:', '- name: tester', '  user: {}',
      'contexts:', '- name: standin', '  context: { cluster: standin, user: tester }',
    ].join('\n'));
    const spec = specFromYaml(SPEC);
    const outcome = await runSuite({
      cluster: 'kube', spec, specFile: null, specText: SPEC, suite: resolveProfile(spec, 'tiny'), outDir: join(scratch, 'runs'),
      engine: new EmbeddedEngine({ binary: await ensureEmbeddedEngine() }),
      settings: { kubeconfig, namespace: ns, serviceUrl: service.baseUrl, cnpgCluster: '' },
      signal: new AbortController().signal, log: () => undefined, progress: () => undefined,
    });
    expect(outcome.status, outcome.reason).toBe('completed');
    const records = readTimeline(join(outcome.runDir, TIMELINE_FILE));
    const starts = eventsOf(records, 'action.start');
    const ends = eventsOf(records, 'action.end');
    expect(starts.map((e) => e.data.action)).toEqual(['kill', 'scale']);
    expect(ends.map((e) => [e.data.action, e.data.ok])).toEqual([['kill', true], ['scale', true]]);
    expect([...starts, ...ends].every((e) => e.source === 'harness')).toBe(true);
    // The load's t=0 is its first phase start; each action fired at its offset from it, not from when the
    // harness asked the engine to start.
    const origin = eventsOf(records, 'phase').find((e) => e.data.state === 'start')!.t;
    expect(starts[0]!.t - origin).toBeGreaterThanOrEqual(1000);
    expect(starts[0]!.t - origin).toBeLessThan(1400);
    expect(starts[1]!.t - origin).toBeGreaterThanOrEqual(2000);
    expect(starts[1]!.t - origin).toBeLessThan(2400);
    // The adapter carried them out for real: the pod delete and the scale PATCH reached the API.
    expect(standin.requestsMatching('DELETE', new RegExp(`/namespaces/${ns}/pods/`))).toHaveLength(1);
    expect(standin.requestsMatching('PATCH', new RegExp(`/namespaces/${ns}/deployments/slo-reference-app/scale$`))).toHaveLength(1);
  }, 60_000);
});

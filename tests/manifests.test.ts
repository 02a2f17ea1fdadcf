// Renders every overlay with the real kustomize and checks it against the published schemas, then checks
// the properties the SLO suite relies on (zero-downtime rollout, autoscaling range, probes, hardening,
// who opted into disruptions). Nothing here talks to a cluster.
import { describe, it, expect, beforeAll } from 'vitest';
import { CNPG_OVERLAYS, OVERLAYS, renderOverlay, validateObject, type KubeObject, type Overlay } from '../testing/manifests.ts';

const rendered = new Map<Overlay, KubeObject[]>();

beforeAll(async () => {
  for (const overlay of OVERLAYS) rendered.set(overlay, await renderOverlay(overlay));
}, 15 * 60_000); // the first run may build kustomize with Go

function objects(overlay: Overlay): KubeObject[] {
  const found = rendered.get(overlay);
  if (!found) throw new Error(`overlay ${overlay} was not rendered`);
  return found;
}

function one(overlay: Overlay, kind: string): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const matches = objects(overlay).filter((o) => o.kind === kind);
  expect(matches, `${overlay}: exactly one ${kind}`).toHaveLength(1);
  return matches[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  it('renders only objects that match their schemas', () => {
    const problems = objects(overlay).flatMap((o) => validateObject(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`));
    expect(problems).toEqual([]);
    expect(objects(overlay).map((o) => o.kind).sort()).toEqual(expect.arrayContaining(
      [...(CNPG_OVERLAYS.includes(overlay) ? ['Cluster'] : []), 'Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'PodDisruptionBudget', 'Service']));
  });

  it('puts every namespaced object in the overlay namespace', () => {
    const namespace = one(overlay, 'Namespace').metadata.name as string;
    for (const o of objects(overlay).filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, o.kind).toBe(namespace);
  });

  it('rolls out one extra pod at a time and never below the desired count', () => {
    const deployment = one(overlay, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('probes /health for liveness and /ready for readiness on the http port', () => {
    const container = one(overlay, 'Deployment').spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: 8080 }));
  });

  it('gives the kubelet more grace than preStop + drain + shutdown', () => {
    const pod = one(overlay, 'Deployment').spec.template.spec;
    const container = pod.containers[0];
    const preStopS = container.lifecycle.preStop.sleep.seconds as number;
    const drainS = Number(container.env.find((e: { name: string }) => e.name === 'DRAIN_DELAY_MS').value) / 1000;
    const shutdownBudgetS = 10; // closing keep-alive connections and the pg pool, see deployment.yaml
    expect(preStopS).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopS + drainS + shutdownBudgetS);
  });

  it('runs hardened: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = one(overlay, 'Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests.cpu).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
  });

  it('autoscales 3..20 on CPU 70 % and memory 80 %, fast up and slow down', () => {
    const hpa = one(overlay, 'HorizontalPodAutoscaler').spec;
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([3, 20]);
    const targets = Object.fromEntries(hpa.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(targets).toEqual({ cpu: 70, memory: 80 });
    expect(hpa.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(180); // 3 minutes: see the comment in the base hpa.yaml
    // Simulate the scale-up policies: 3 -> 20 must fit in two minutes of 15 s periods.
    let replicas = 3;
    let seconds = 0;
    while (replicas < 20) {
      const steps = hpa.behavior.scaleUp.policies.map((p: { type: string; value: number }) => (p.type === 'Percent' ? Math.ceil(replicas * p.value / 100) : p.value));
      replicas = Math.min(20, replicas + Math.max(...steps));
      seconds += 15;
    }
    expect(seconds).toBeLessThanOrEqual(120);
  });

  it('is back from 20 to 3 replicas well inside the default spec\'s budget once the load is gone', () => {
    const hpa = one(overlay, 'HorizontalPodAutoscaler').spec;
    const down = hpa.behavior.scaleDown;
    // Idle replicas want min replicas at once; the stabilization window, then one policy period per step.
    let replicas = 20;
    let seconds = down.stabilizationWindowSeconds as number;
    while (replicas > 3) {
      const steps = down.policies.map((p: { type: string; value: number }) => (p.type === 'Percent' ? Math.floor(replicas * p.value / 100) : p.value));
      const step = down.selectPolicy === 'Min' ? Math.min(...steps) : Math.max(...steps);
      replicas = Math.max(3, replicas - Math.max(1, step));
      seconds += down.policies[0].periodSeconds as number;
    }
    // slo.yaml: scaling.backToMinWithinS 900. Two thirds of it leaves the HPA's metric lag room.
    expect(seconds).toBeLessThanOrEqual(600);
  });

  it('keeps a disruption budget and points the app at the CloudNativePG primary', () => {
    expect(one(overlay, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const env = one(overlay, 'Deployment').spec.template.spec.containers[0].env;
    if (!CNPG_OVERLAYS.includes(overlay)) {
      // The harness writes the same Secret for its host database (clusters/embedded/reference-app.ts).
      expect(env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'orders-db-app', key: 'uri' } } });
      return;
    }
    const db = one(overlay, 'Cluster');
    expect(db.spec.instances).toBe(3);
    expect(db.spec.postgresql.synchronous).toMatchObject({ method: 'any', number: 1 });
    expect(env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${db.metadata.name}-app`, key: 'uri' } } });
  });
});

describe('overlay differences', () => {
  it('opts only the harness\'s own namespaces (kind, embedded) into disruptions', () => {
    expect(one('kind', 'Namespace').metadata.labels?.['slo-harness.io/disruptions']).toBe('allowed');
    expect(one('embedded', 'Namespace').metadata.labels?.['slo-harness.io/disruptions']).toBe('allowed');
    expect(one('staging', 'Namespace').metadata.labels?.['slo-harness.io/disruptions']).toBeUndefined();
  });

  it('uses the locally loaded image on kind and a registry image on staging', () => {
    const kindContainer = one('kind', 'Deployment').spec.template.spec.containers[0];
    expect(kindContainer).toMatchObject({ image: 'slo-reference-app:dev', imagePullPolicy: 'IfNotPresent' });
    expect(one('staging', 'Deployment').spec.template.spec.containers[0].image).not.toBe('slo-reference-app:dev');
  });

  it('ships the ServiceMonitor only where the Prometheus Operator is expected', () => {
    expect(objects('kind').some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    expect(one('staging', 'ServiceMonitor').spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
  });
});

describe('the validators reject broken objects', () => {
  const deployment = () => structuredClone(one('kind', 'Deployment')) as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const cluster = () => structuredClone(one('kind', 'Cluster')) as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('rejects a Deployment whose replica count is a string or whose container has no name', () => {
    const bad = deployment();
    bad.spec.replicas = 'three';
    expect(validateObject(bad).join()).toMatch(/replicas must be integer/);
    const nameless = deployment();
    delete nameless.spec.template.spec.containers[0].name;
    expect(validateObject(nameless).join()).toMatch(/must have required property '?name'?/);
  });

  it('rejects a CNPG Cluster with an unknown sync method, zero instances or a misspelt field', () => {
    const badMethod = cluster();
    badMethod.spec.postgresql.synchronous.method = 'quorum';
    expect(validateObject(badMethod).join()).toMatch(/synchronous\/method must be equal to one of the allowed values/);
    const none = cluster();
    none.spec.instances = 0;
    expect(validateObject(none).join()).toMatch(/instances must be >= 1/);
    const typo = cluster();
    typo.spec.instance = 3;
    expect(validateObject(typo).join()).toMatch(/must NOT have additional properties/);
  });

  it('rejects a ServiceMonitor with a malformed scrape interval and kinds it has no schema for', () => {
    const monitor = structuredClone(one('staging', 'ServiceMonitor')) as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    monitor.spec.endpoints[0].interval = 'every 15 seconds';
    expect(validateObject(monitor).join()).toMatch(/interval must match pattern/);
    expect(validateObject({ apiVersion: 'v1', kind: 'Gizmo', metadata: { name: 'x' } })).toEqual(['no schema for v1/Gizmo']);
  });
});

// Cluster DNS (CoreDNS) and the metrics API (metrics-server) as Deployments in kube-system, from the images
// images.ts built, as kubeadm and metrics-server's own manifests (manifests/base of v0.8.0) set them up.
// Two changes on purpose: CoreDNS does not forward to the machine's resolver (a test cluster has no
// business resolving outside names, and pods must not send traffic off this machine), and metrics-server
// skips verifying the kubelet's self-signed serving certificate (--kubelet-insecure-tls, as on kind).
import { errors } from '../../contract/errors.ts';
import { waitFor } from '../wait.ts';
import { kubectl } from './kubectl.ts';
import type { Layout } from './layout.ts';
import { throwIfStuck } from './stuck-pods.ts';
import type { Step } from './steps.ts';

const NS = 'kube-system';
const meta = (name: string, labels?: Record<string, string>) => ({ name, namespace: NS, ...(labels ? { labels } : {}) });
const hardened = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } };

export function corefile(layout: Layout): string {
  return `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${layout.clusterDomain} in-addr.arpa ip6.arpa {
        pods insecure
        ttl 30
    }
    prometheus :9153
    cache 30
    loadbalance
    reload
}
`;
}

export function corednsObjects(layout: Layout): object[] {
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('coredns'), data: { Corefile: corefile(layout) } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('coredns', labels),
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            containers: [{
              name: 'coredns',
              image: 'localhost/slo-embedded/coredns:v1.12.1',
              imagePullPolicy: 'Never',
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' }],
              resources: { requests: { cpu: '50m', memory: '70Mi' }, limits: { memory: '170Mi' } },
              livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 10, periodSeconds: 10 },
              readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 5 },
              securityContext: { ...hardened, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
            }],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: meta('kube-dns', { ...labels, 'kubernetes.io/name': 'CoreDNS' }),
      spec: {
        clusterIP: layout.dnsIp,
        selector: labels,
        ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }],
      },
    },
  ];
}

/**
 * metrics-server's resolution: 15 s (its default manifest); 10 s, its minimum, in a compressed profile,
 * so the HPA sees a spike sooner without anything judged differently. It must exceed the kubelet request
 * timeout (10 s by default), which is therefore set to half of it (5 s: a kubelet on this machine answers
 * in milliseconds).
 */
export function metricResolutionS(timeScale: number | undefined): number {
  return timeScale !== undefined && timeScale < 1 ? 10 : 15;
}

export function metricsServerObjects(resolutionS = 15): object[] {
  const labels = { 'k8s-app': 'metrics-server' };
  const sa = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: NS }];
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('metrics-server', labels) },
    {
      apiVersion: rbac, kind: 'ClusterRole',
      metadata: { name: 'system:aggregated-metrics-reader', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'system:metrics-server' },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    { apiVersion: rbac, kind: 'RoleBinding', metadata: meta('metrics-server-auth-reader'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' }, subjects: sa },
    { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'metrics-server:system:auth-delegator' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' }, subjects: sa },
    { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'system:metrics-server' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' }, subjects: sa },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('metrics-server', labels), spec: { selector: labels, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('metrics-server', labels),
      spec: {
        selector: { matchLabels: labels },
        strategy: { rollingUpdate: { maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'metrics-server',
            priorityClassName: 'system-cluster-critical',
            containers: [{
              name: 'metrics-server',
              image: 'localhost/slo-embedded/metrics-server:v0.8.0',
              imagePullPolicy: 'Never',
              args: ['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port', `--metric-resolution=${resolutionS}s`, `--kubelet-request-timeout=${Math.min(10, resolutionS / 2)}s`, '--kubelet-insecure-tls'],
              ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
              resources: { requests: { cpu: '100m', memory: '200Mi' } },
              readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3, initialDelaySeconds: 20 },
              livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, periodSeconds: 10, failureThreshold: 3 },
              securityContext: { ...hardened, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp-dir', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: { service: { name: 'metrics-server', namespace: NS }, group: 'metrics.k8s.io', version: 'v1beta1', insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100 },
    },
  ];
}


function waitForRollout(layout: Layout, name: string, signal: AbortSignal): Promise<true> {
  return waitFor(async () => {
    if ((await kubectl(layout, ['-n', NS, 'rollout', 'status', `deployment/${name}`, '--timeout=5s'])).exitCode === 0) return true;
    await throwIfStuck(layout, NS);
    return undefined;
  }, {
    what: `deployment ${NS}/${name} available`, timeoutMs: 300_000, signal, intervalMs: 1000,
    hint: `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${NS} describe pods`,
  });
}

/**
 * Applies CoreDNS and metrics-server and waits for CoreDNS (pods need names). metrics-server's own
 * readiness probe starts after 20 s (its upstream manifest), so its wait is a later step
 * (`metricsApiStep`), and the service rolls out meanwhile.
 */
export function addonsStep(layout: Layout, timeScale?: number): Step {
  return {
    name: 'addons',
    async up(ctx) {
      const list = { apiVersion: 'v1', kind: 'List', items: [...corednsObjects(layout), ...metricsServerObjects(metricResolutionS(timeScale))] };
      const applied = await kubectl(layout, ['apply', '-f', '-'], JSON.stringify(list));
      if (applied.exitCode !== 0) throw errors.SLO_ERR_KUBE_API(`applying CoreDNS and metrics-server failed: ${(applied.all ?? '').trim()}`);
      await waitForRollout(layout, 'coredns', ctx.signal);
    },
    // Their pods go with the node's teardown (pods.ts); their objects with etcd's data.
    async down() {},
  };
}

/** Up means the metrics API answers: the HPA and `kubectl top` need it from the first second of load. */
export function metricsApiStep(layout: Layout): Step {
  return {
    name: 'metrics-api',
    async up(ctx) {
      await waitForRollout(layout, 'metrics-server', ctx.signal);
      await waitFor(async () => ((await kubectl(layout, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'])).exitCode === 0 ? true : undefined), {
        what: 'the metrics.k8s.io API', timeoutMs: 120_000, signal: ctx.signal, intervalMs: 1000,
        hint: `kubectl --kubeconfig=${layout.adminKubeconfig} get apiservice v1beta1.metrics.k8s.io -o yaml`,
      });
    },
    async down() {},
  };
}

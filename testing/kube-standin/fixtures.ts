// Objects shaped like what a real API server returns for the reference app, for seeding the stand-in, and a
// kubeconfig that points at the stand-in.
import { stringify } from 'yaml';
import type { KubeObject } from './server.ts';

export const COLLECTIONS = {
  namespaces: 'api/v1/namespaces',
  pods: 'api/v1/pods',
  deployments: 'apis/apps/v1/deployments',
  hpas: 'apis/autoscaling/v2/horizontalpodautoscalers',
  cnpgClusters: 'apis/postgresql.cnpg.io/v1/clusters',
} as const;

export const APP_LABELS = { 'app.kubernetes.io/name': 'slo-reference-app' };

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function deployment(ns: string, opts: { version?: string; replicas?: number; updated?: number; ready?: number; generation?: number } = {}): KubeObject {
  const version = opts.version ?? 'v1';
  const replicas = opts.replicas ?? 3;
  const generation = opts.generation ?? 1;
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'slo-reference-app', namespace: ns, generation, labels: APP_LABELS },
    spec: {
      replicas,
      selector: { matchLabels: APP_LABELS },
      template: {
        metadata: { labels: APP_LABELS },
        spec: { containers: [{ name: 'app', image: `registry.local:5000/slo-reference-app:${version}`, env: [{ name: 'PORT', value: '8080' }, { name: 'APP_VERSION', value: version }] }] },
      },
    },
    status: {
      observedGeneration: generation, replicas, updatedReplicas: opts.updated ?? replicas,
      readyReplicas: opts.ready ?? replicas, availableReplicas: opts.ready ?? replicas,
    },
  };
}

export function pod(ns: string, name: string, opts: { version?: string; ready?: boolean; createdAt?: Date } = {}): KubeObject {
  const version = opts.version ?? 'v1';
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels: APP_LABELS, creationTimestamp: (opts.createdAt ?? new Date()).toISOString() },
    spec: { containers: [{ name: 'app', image: `registry.local:5000/slo-reference-app:${version}`, env: [{ name: 'APP_VERSION', value: version }] }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString() }],
    },
  };
}

export function hpa(ns: string, current: number, desired: number, cpu: number | null): KubeObject {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'slo-reference-app', namespace: ns },
    spec: { minReplicas: 3, maxReplicas: 20 },
    status: {
      currentReplicas: current, desiredReplicas: desired,
      currentMetrics: cpu === null ? [] : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpu } } }],
    },
  };
}

export function cnpgCluster(ns: string, current: string, target = current): KubeObject {
  return {
    apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster',
    metadata: { name: 'orders-db', namespace: ns },
    spec: { instances: 3 },
    status: {
      currentPrimary: current, targetPrimary: target,
      instanceNames: ['orders-db-1', 'orders-db-2', 'orders-db-3'],
      instancesStatus: { healthy: ['orders-db-1', 'orders-db-2', 'orders-db-3'] },
    },
  };
}

/**
 * A kubeconfig (YAML text) whose contexts all reach the stand-in at `server` as one user; the current
 * context is the first one unless `current` names another.
 */
export function kubeconfigYaml(server: string, options: { cluster?: string; user?: string; contexts?: string[]; current?: string } = {}): string {
  const cluster = options.cluster ?? 'standin';
  const user = options.user ?? 'tester';
  const contexts = options.contexts ?? [cluster];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': options.current ?? contexts[0],
    clusters: [{ name: cluster, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: {} }],
    contexts: contexts.map((name) => ({ name, context: { cluster, user } })),
  });
}

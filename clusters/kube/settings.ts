// Settings of the kube adapter, from ClusterOptions.settings (free-form strings from the CLI or spec).
import { errors } from '../../contract/errors.ts';

export interface KubeSettings {
  /** kubeconfig context; the file's current context when absent. */
  context: string | undefined;
  /** kubeconfig file; KUBECONFIG or ~/.kube/config when absent. */
  kubeconfig: string | undefined;
  namespace: string;
  deployment: string;
  /** Container whose image a rollout changes. */
  container: string;
  /** Label selector of the deployment's pods. */
  podSelector: string;
  /** HorizontalPodAutoscaler to observe. */
  hpa: string;
  /** Base URL the load should hit (an ingress or port-forward), never one pod. */
  serviceUrl: string;
  prometheusUrl: string | undefined;
  /** CloudNativePG Cluster to observe and fail over. */
  cnpgCluster: string | undefined;
  /** Failover for databases outside the cluster, e.g. `gcloud sql instances failover orders`. */
  failoverCommand: string | undefined;
  /** `promote` (CNPG switchover to a healthy standby, as `kubectl cnpg promote`) or `delete-primary`. */
  failoverMode: 'promote' | 'delete-primary';
  rolloutTimeoutS: number;
  failoverTimeoutS: number;
  /** Distributed load (`--runners N`): the embedded engine's image as the nodes pull it, and the service's URL from inside the cluster. */
  runnerImage: string | undefined;
  runnerUrl: string | undefined;
}

type Raw = Record<string, string | number | boolean> | undefined;

function text(raw: Raw, key: string): string | undefined {
  const value = raw?.[key];
  return value === undefined || value === '' ? undefined : String(value);
}

function seconds(raw: Raw, key: string, fallback: number): number {
  const value = raw?.[key];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw errors.SLO_ERR_CLI_USAGE(`kube setting ${key}=${String(value)} is not a positive number of seconds`);
  return n;
}

export function parseKubeSettings(raw: Raw): KubeSettings {
  const serviceUrl = text(raw, 'serviceUrl');
  if (!serviceUrl) {
    throw errors.SLO_ERR_CLI_USAGE('the kube cluster needs serviceUrl: the base URL the load should hit',
      'e.g. --set serviceUrl=https://orders.staging.example.com (an ingress, or a kubectl port-forward to the Service)');
  }
  try {
    new URL(serviceUrl);
  } catch {
    throw errors.SLO_ERR_CLI_USAGE(`kube setting serviceUrl=${serviceUrl} is not a URL`);
  }
  const deployment = text(raw, 'deployment') ?? 'slo-reference-app';
  const failoverMode = text(raw, 'failoverMode') ?? 'promote';
  if (failoverMode !== 'promote' && failoverMode !== 'delete-primary') {
    throw errors.SLO_ERR_CLI_USAGE(`kube setting failoverMode=${failoverMode} is not one of promote, delete-primary`);
  }
  return {
    context: text(raw, 'context'),
    kubeconfig: text(raw, 'kubeconfig'),
    namespace: text(raw, 'namespace') ?? 'default',
    deployment,
    container: text(raw, 'container') ?? 'app',
    podSelector: text(raw, 'podSelector') ?? `app.kubernetes.io/name=${deployment}`,
    hpa: text(raw, 'hpa') ?? deployment,
    serviceUrl,
    prometheusUrl: text(raw, 'prometheusUrl'),
    cnpgCluster: text(raw, 'cnpgCluster'),
    failoverCommand: text(raw, 'failoverCommand'),
    failoverMode,
    rolloutTimeoutS: seconds(raw, 'rolloutTimeoutS', 600),
    failoverTimeoutS: seconds(raw, 'failoverTimeoutS', 180),
    runnerImage: text(raw, 'runnerImage'),
    runnerUrl: text(raw, 'runnerUrl'),
  };
}

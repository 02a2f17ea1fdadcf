// Every command the kind adapter runs, built by pure functions so tests can assert the exact command lines.
import { fileURLToPath } from 'node:url';

export interface Command { file: string; args: string[]; /** Fed to stdin. */ input?: string }

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KIND_CONFIG = fileURLToPath(new URL('./kind-config.yaml', import.meta.url));
export const KIND_OVERLAY = fileURLToPath(new URL('../../reference-app/k8s/overlays/kind', import.meta.url));

/** Pinned manifests. They are fetched by the cluster from the internet, so this path cannot run offline. */
export const METRICS_SERVER_MANIFEST = 'https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml';
export const CNPG_MANIFEST = 'https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/release-1.29/releases/cnpg-1.29.1.yaml';

/** What the kind overlay deploys (reference-app/k8s/overlays/kind). */
export const KIND_NAMESPACE = 'slo-reference';
export const APP_DEPLOYMENT = 'slo-reference-app';
export const APP_IMAGE_REPOSITORY = 'slo-reference-app';
export const APP_IMAGE = `${APP_IMAGE_REPOSITORY}:dev`;
export const CNPG_CLUSTER = 'orders-db';
export const NODE_PORT_URL = 'http://127.0.0.1:30080';

export const kubeContext = (cluster: string) => `kind-${cluster}`;

export function kindListClusters(): Command {
  return { file: 'kind', args: ['get', 'clusters'] };
}

export function kindCreateCluster(cluster: string, config = KIND_CONFIG): Command {
  return { file: 'kind', args: ['create', 'cluster', '--name', cluster, '--config', config, '--wait', '120s'] };
}

export function kindDeleteCluster(cluster: string): Command {
  return { file: 'kind', args: ['delete', 'cluster', '--name', cluster] };
}

export function dockerBuild(image = APP_IMAGE, root = PROJECT_ROOT): Command {
  // The service's build context is its own folder: the image carries nothing of the harness.
  return { file: 'docker', args: ['build', '--tag', image, `${root}reference-app`] };
}

export function dockerTag(source: string, target: string): Command {
  return { file: 'docker', args: ['tag', source, target] };
}

export function kindLoadImage(cluster: string, image: string): Command {
  return { file: 'kind', args: ['load', 'docker-image', image, '--name', cluster] };
}

function kubectl(cluster: string, ...args: string[]): Command {
  return { file: 'kubectl', args: ['--context', kubeContext(cluster), ...args] };
}

export function installMetricsServer(cluster: string): Command[] {
  // kind's kubelets serve self-signed certificates, which metrics-server refuses without this flag.
  const insecureTls = JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--kubelet-insecure-tls' }]);
  return [
    kubectl(cluster, 'apply', '-f', METRICS_SERVER_MANIFEST),
    kubectl(cluster, '-n', 'kube-system', 'patch', 'deployment', 'metrics-server', '--type=json', '-p', insecureTls),
    kubectl(cluster, '-n', 'kube-system', 'rollout', 'status', 'deployment/metrics-server', '--timeout=180s'),
  ];
}

export function installCnpgOperator(cluster: string): Command[] {
  return [
    // Server-side apply: the CRDs are too large for the last-applied annotation of client-side apply.
    kubectl(cluster, 'apply', '--server-side', '--force-conflicts', '-f', CNPG_MANIFEST),
    kubectl(cluster, '-n', 'cnpg-system', 'wait', '--for=condition=Available', 'deployment/cnpg-controller-manager', '--timeout=180s'),
  ];
}

export function applyOverlay(cluster: string, overlay = KIND_OVERLAY): Command {
  return kubectl(cluster, 'apply', '-k', overlay);
}

export function waitForApp(cluster: string): Command[] {
  return [
    kubectl(cluster, '-n', KIND_NAMESPACE, 'wait', `cluster.postgresql.cnpg.io/${CNPG_CLUSTER}`, '--for=condition=Ready', '--timeout=600s'),
    kubectl(cluster, '-n', KIND_NAMESPACE, 'rollout', 'status', `deployment/${APP_DEPLOYMENT}`, '--timeout=300s'),
  ];
}

export function commandLine(command: Command): string {
  return [command.file, ...command.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}

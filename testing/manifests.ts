// Renders the kustomize overlays and checks every object against the published schemas: Kubernetes core
// kinds through `kubernetes-models`, the ServiceMonitor through `@kubernetes-models/prometheus-operator`,
// the CloudNativePG Cluster through the vendored CRD schema subset in schemas/ (with ajv).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Ajv } from 'ajv';
import { Namespace, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ensureKustomize } from '../harness/setup/kustomize.ts';

/** The reference service's manifests (kustomize base and overlays). */
export const K8S_DIR = fileURLToPath(new URL('../reference-app/k8s/', import.meta.url));
const SCHEMAS_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));
export const OVERLAYS = ['kind', 'staging', 'embedded'] as const;
/** Overlays whose database is the CloudNativePG Cluster of the base (embedded: PostgreSQL HA on the host, for now). */
export const CNPG_OVERLAYS: readonly Overlay[] = ['kind', 'staging'];
export type Overlay = (typeof OVERLAYS)[number];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export async function renderOverlay(overlay: Overlay): Promise<KubeObject[]> {
  const kustomize = await ensureKustomize();
  const { stdout } = await execa(kustomize, ['build', `${K8S_DIR}overlays/${overlay}`]);
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as KubeObject).filter((obj) => obj !== null);
}

const cnpgClusterSchema = parseYaml(readFileSync(`${SCHEMAS_DIR}cnpg-cluster-v1.subset.yaml`, 'utf8')) as object;
const validateCnpgCluster = new Ajv({ allErrors: true, strict: true }).compile(cnpgClusterSchema);

/** kubernetes-models classes throw on `.validate()`; turn that into a list of problems. */
function modelProblems(validate: () => void): string[] {
  try {
    validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Problems with one object; empty when it matches its schema. Unknown kinds are a problem too. */
export function validateObject(obj: KubeObject): string[] {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const data = obj as never;
  switch (id) {
    case 'v1/Namespace': return modelProblems(() => new Namespace(data).validate());
    case 'v1/Service': return modelProblems(() => new Service(data).validate());
    case 'apps/v1/Deployment': return modelProblems(() => new Deployment(data).validate());
    case 'autoscaling/v2/HorizontalPodAutoscaler': return modelProblems(() => new HorizontalPodAutoscaler(data).validate());
    case 'policy/v1/PodDisruptionBudget': return modelProblems(() => new PodDisruptionBudget(data).validate());
    case 'monitoring.coreos.com/v1/ServiceMonitor': return modelProblems(() => new ServiceMonitor(data).validate());
    case 'postgresql.cnpg.io/v1/Cluster':
      return validateCnpgCluster(obj) ? [] : (validateCnpgCluster.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());
    default: return [`no schema for ${id}`];
  }
}

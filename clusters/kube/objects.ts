// Pure readings of Kubernetes objects: which version a pod runs, whether it is ready, how far a rollout is.
// Loose structural types on purpose: watch events arrive as plain JSON.

export interface ContainerLike { name: string; image?: string; env?: { name: string; value?: string }[] }
export interface PodSpecLike { containers: ContainerLike[] }
export interface PodLike {
  metadata: { name: string; deletionTimestamp?: string | Date; creationTimestamp?: string | Date; labels?: Record<string, string> };
  spec?: PodSpecLike;
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string | Date }[];
    containerStatuses?: { name: string; state?: { terminated?: { exitCode?: number } } }[];
  };
}
export interface DeploymentLike {
  metadata: { name: string; generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec?: PodSpecLike } };
  status?: {
    observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number;
    availableReplicas?: number; conditions?: { type: string; status: string; reason?: string }[];
  };
}

/** Splits `registry:5000/team/app:1.2@sha256:...` into repository and tag (digest dropped). */
export function splitImage(image: string): { repository: string; tag: string | undefined } {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repository: withoutDigest, tag: undefined };
}

export function imageWithTag(image: string, tag: string): string {
  return `${splitImage(image).repository}:${tag}`;
}

function pick(spec: PodSpecLike | undefined, container: string): ContainerLike | undefined {
  return spec?.containers.find((c) => c.name === container) ?? spec?.containers[0];
}

/** The version a pod template runs: its literal APP_VERSION, else the image tag, else "unknown". */
export function versionOf(spec: PodSpecLike | undefined, container: string): string {
  const c = pick(spec, container);
  const env = c?.env?.find((e) => e.name === 'APP_VERSION')?.value;
  if (env) return env;
  return (c?.image && splitImage(c.image).tag) || 'unknown';
}

export function imageOf(spec: PodSpecLike | undefined, container: string): string | undefined {
  return pick(spec, container)?.image;
}

export function readyCondition(pod: PodLike): { ready: boolean; since: number | undefined } {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
  return { ready: c?.status === 'True', since: c?.lastTransitionTime ? Date.parse(String(c.lastTransitionTime)) : undefined };
}

/** Exit code of a container that has terminated, or null when none has. */
export function exitCodeOf(pod: PodLike): number | null {
  for (const s of pod.status?.containerStatuses ?? []) {
    const code = s.state?.terminated?.exitCode;
    if (typeof code === 'number') return code;
  }
  return null;
}

export function isFinished(pod: PodLike): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export interface RolloutProgress {
  updated: number; total: number; done: boolean; failed: string | undefined;
  /** False until the controller has seen the latest spec; counts before that describe the old one. */
  observed: boolean;
}

/** The same test `kubectl rollout status` applies. */
export function rolloutProgress(d: DeploymentLike): RolloutProgress {
  const total = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const stalled = s.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  const observed = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
  const done = observed && updated >= total && (s.replicas ?? 0) <= updated && (s.availableReplicas ?? 0) >= updated;
  return { updated, total, done, observed, failed: stalled ? `deployment ${d.metadata.name} exceeded its progress deadline` : undefined };
}

// Pure readings of Kubernetes objects: which version a pod runs, whether it is ready, how far a rollout is.
// Loose structural types on purpose: watch events arrive as plain JSON.

export interface ContainerLike { name: string; image?: string; env?: { name: string; value?: string }[] }
export interface PodSpecLike { containers: ContainerLike[] }
export interface OwnerReferenceLike { kind: string; name: string; controller?: boolean }
export interface PodLike {
  metadata: {
    name: string; deletionTimestamp?: string | Date; creationTimestamp?: string | Date; labels?: Record<string, string>;
    ownerReferences?: OwnerReferenceLike[];
  };
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

export interface ReplicaSetLike {
  metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: OwnerReferenceLike[] };
  spec?: { replicas?: number; template?: { spec?: PodSpecLike } };
  status?: { replicas?: number; readyReplicas?: number };
}

/** A Kubernetes Event (core/v1), as the controllers write them about an object. */
export interface KubeEventLike {
  metadata: { name: string };
  reason?: string;
  message?: string;
  count?: number;
  source?: { component?: string };
  reportingComponent?: string;
  lastTimestamp?: string | Date | null;
  eventTime?: string | Date | null;
  series?: { count?: number; lastObservedTime?: string | Date } | null;
}

/** The controller that owns an object (a pod's ReplicaSet, a ReplicaSet's Deployment), if any. */
export function controllerOf(meta: { ownerReferences?: OwnerReferenceLike[] }): OwnerReferenceLike | undefined {
  return meta.ownerReferences?.find((ref) => ref.controller) ?? meta.ownerReferences?.[0];
}

/** The replica count an HPA's SuccessfulRescale message names ("New size: 7; reason: ..."). */
export function rescaleSize(message: string | undefined): number | null {
  const match = /New size: (\d+)/.exec(message ?? '');
  return match ? Number(match[1]) : null;
}

/** When an event last happened, by the API's clock (series, then lastTimestamp, then eventTime). */
export function eventTimeOf(e: KubeEventLike): number | undefined {
  for (const value of [e.series?.lastObservedTime, e.lastTimestamp, e.eventTime]) {
    if (value === undefined || value === null) continue;
    const t = value instanceof Date ? value.getTime() : Date.parse(value);
    if (Number.isFinite(t)) return t;
  }
  return undefined;
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

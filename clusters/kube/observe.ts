// Turns watch events of the target namespace into timeline events: the Deployment gives `replicas` (and
// `rollout` progress while a rollout runs), Pods give `pod.start` / `pod.ready` / `pod.stop`, the HPA gives
// `hpa` and the autoscaler controller's own Events give `hpa.rescale`, the Deployment's ReplicaSets give
// `replicaset` (a rollout as Kubernetes carries it out), the CloudNativePG Cluster status gives `db.role`. Each event is written once per change, so the
// ADDED replays that follow every reconnect add nothing.
import type { KubeConfig } from '@kubernetes/client-node';
import type { TimelineSink } from '../../contract/timeline.ts';
import type { KubeSettings } from './settings.ts';
import { ResilientWatch } from './watch.ts';
import { controllerOf, eventTimeOf, exitCodeOf, isFinished, readyCondition, rescaleSize, rolloutProgress, versionOf, type DeploymentLike, type KubeEventLike, type PodLike, type ReplicaSetLike } from './objects.ts';

export const SOURCE = 'kube';

export interface ObserverHooks {
  /** Pods this run deleted on purpose (their stop reason is `killed`). */
  killedPods: ReadonlySet<string>;
  /** The rollout in progress, if any. */
  /** The rollout under way: its versions and the pods that ran before it (a restart keeps the version). */
  activeRollout: () => { from: string; to: string; oldPods: ReadonlySet<string> } | undefined;
}

interface PodState { version: string; ready: boolean; stopped: boolean; owner?: string }

interface HpaLike {
  status?: {
    currentReplicas?: number; desiredReplicas?: number;
    currentMetrics?: { type: string; resource?: { name: string; current?: { averageUtilization?: number } } }[];
  };
}

interface CnpgClusterLike {
  status?: { currentPrimary?: string; targetPrimary?: string; instancesStatus?: { healthy?: string[] } };
}

export class KubeObserver {
  private readonly watches: ResilientWatch[] = [];
  private readonly pods = new Map<string, PodState>();
  private startedAt = 0;
  private lastReplicas = '';
  private lastRolloutUpdated = -1;
  private lastHpa = '';
  private readonly replicaSets = new Map<string, string>();
  private readonly seenEvents = new Set<string>();
  private primary: string | undefined;
  private primaryDown: string | undefined;
  /** The primary that went down in a failover, until the status shows it healthy again (a standby now). */
  private rejoin: { member: string; seenUnhealthy: boolean } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly settings: KubeSettings,
    private readonly timeline: TimelineSink,
    private readonly log: (line: string) => void,
    private readonly hooks: ObserverHooks,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const ns = this.settings.namespace;
    const byName = (name: string) => ({ fieldSelector: `metadata.name=${name}` });
    const watch = (path: string, query: Record<string, string>, handler: (type: string, obj: never) => void) =>
      this.watches.push(new ResilientWatch(this.kc, path, query, handler as (type: string, obj: unknown) => void, this.log));

    watch(`/apis/apps/v1/namespaces/${ns}/deployments`, byName(this.settings.deployment), (type, d: DeploymentLike) => this.onDeployment(type, d));
    watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: this.settings.podSelector }, (type, p: PodLike) => this.onPod(type, p));
    watch(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`, byName(this.settings.hpa), (type, h: HpaLike) => this.onHpa(type, h));
    watch(`/apis/apps/v1/namespaces/${ns}/replicasets`, { labelSelector: this.settings.podSelector }, (type, rs: ReplicaSetLike) => this.onReplicaSet(type, rs));
    watch(`/api/v1/namespaces/${ns}/events`, { fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${this.settings.hpa}` },
      (type, e: KubeEventLike) => this.onHpaEvent(type, e));
    if (this.settings.cnpgCluster) {
      watch(`/apis/postgresql.cnpg.io/v1/namespaces/${ns}/clusters`, byName(this.settings.cnpgCluster), (type, c: CnpgClusterLike) => this.onCnpg(type, c));
    }
    for (const w of this.watches) w.start();
  }

  stop(): void {
    for (const w of this.watches) w.stop();
    this.watches.length = 0;
  }

  /** Total watch connections opened so far (one per watch, more after reconnects). */
  connections(): number {
    return this.watches.reduce((sum, w) => sum + w.connections, 0);
  }

  private onDeployment(type: string, d: DeploymentLike): void {
    if (type === 'DELETED') return;
    const desired = d.spec?.replicas ?? 0;
    const ready = d.status?.readyReplicas ?? 0;
    const key = `${desired}/${ready}`;
    if (key !== this.lastReplicas) {
      this.lastReplicas = key;
      this.timeline.event('replicas', SOURCE, { desired, ready });
    }
    const rollout = this.hooks.activeRollout();
    if (!rollout) {
      this.lastRolloutUpdated = -1;
      return;
    }
    const progress = rolloutProgress(d);
    if (progress.observed && !progress.done && progress.updated !== this.lastRolloutUpdated) {
      this.lastRolloutUpdated = progress.updated;
      this.timeline.event('rollout', SOURCE, { ...rollout, state: 'progress', updated: progress.updated, total: progress.total });
    }
  }

  private onPod(type: string, pod: PodLike): void {
    const name = pod.metadata.name;
    let state = this.pods.get(name);
    const created = pod.metadata.creationTimestamp ? Date.parse(String(pod.metadata.creationTimestamp)) : NaN;
    // Pods that existed before we looked are dated by the API's own timestamps, not by when we saw them.
    const preexisting = Number.isFinite(created) && created < this.startedAt - 1000;
    if (!state) {
      const owner = controllerOf(pod.metadata)?.name;
      state = { version: versionOf(pod.spec, this.settings.container), ready: false, stopped: false, ...(owner ? { owner } : {}) };
      this.pods.set(name, state);
      this.timeline.event('pod.start', SOURCE, { pod: name, version: state.version, ...(owner ? { owner } : {}) }, preexisting ? created : Date.now());
    }
    if (state.stopped) return;
    const ready = readyCondition(pod);
    if (ready.ready && !state.ready && type !== 'DELETED') {
      state.ready = true;
      this.timeline.event('pod.ready', SOURCE, { pod: name, version: state.version, ...(state.owner ? { owner: state.owner } : {}) },
        preexisting && ready.since ? ready.since : Date.now());
    }
    if (type === 'DELETED' || pod.metadata.deletionTimestamp || isFinished(pod)) {
      state.stopped = true;
      this.timeline.event('pod.stop', SOURCE, { pod: name, reason: this.stopReason(name, state, pod), exitCode: exitCodeOf(pod) });
    }
  }

  private stopReason(name: string, state: PodState, pod: PodLike): 'killed' | 'rollout' | 'exited' | 'scale-down' {
    if (this.hooks.killedPods.has(name)) return 'killed';
    const rollout = this.hooks.activeRollout();
    if (rollout && (state.version !== rollout.to || rollout.oldPods.has(name))) return 'rollout';
    if (isFinished(pod) || (!pod.metadata.deletionTimestamp && exitCodeOf(pod) !== null)) return 'exited';
    return 'scale-down';
  }

  private onHpa(type: string, h: HpaLike): void {
    if (type === 'DELETED') return;
    const metric = (name: string) => h.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === name)?.resource?.current?.averageUtilization ?? null;
    const data = { current: h.status?.currentReplicas ?? 0, desired: h.status?.desiredReplicas ?? 0, cpuPercent: metric('cpu'), memoryPercent: metric('memory') };
    const key = JSON.stringify(data);
    if (key === this.lastHpa) return;
    this.lastHpa = key;
    this.timeline.event('hpa', SOURCE, data);
  }

  /** The Deployment's ReplicaSets (ours only: the owner is the service's Deployment), once per change. */
  private onReplicaSet(type: string, rs: ReplicaSetLike): void {
    if (type === 'DELETED') return;
    const owner = controllerOf(rs.metadata);
    if (owner && (owner.kind !== 'Deployment' || owner.name !== this.settings.deployment)) return;
    const data = {
      name: rs.metadata.name,
      revision: rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? null,
      version: versionOf(rs.spec?.template?.spec, this.settings.container),
      desired: rs.spec?.replicas ?? 0,
      ready: rs.status?.readyReplicas ?? 0,
    };
    const key = `${data.desired}/${data.ready}/${data.revision ?? ''}`;
    if (this.replicaSets.get(data.name) === key) return;
    this.replicaSets.set(data.name, key);
    this.timeline.event('replicaset', SOURCE, data);
  }

  /**
   * The autoscaler controller's Events about the HPA. A repeated event is the same object with a higher
   * count (or series count), so each (name, count) is recorded once; events from before the run are skipped.
   */
  private onHpaEvent(type: string, e: KubeEventLike): void {
    if (type === 'DELETED') return;
    const at = eventTimeOf(e);
    if (at !== undefined && at < this.startedAt - 1000) return;
    const key = `${e.metadata.name}/${e.series?.count ?? e.count ?? 1}`;
    if (this.seenEvents.has(key)) return;
    this.seenEvents.add(key);
    const message = e.message ?? '';
    this.timeline.event('hpa.rescale', SOURCE, {
      size: e.reason === 'SuccessfulRescale' ? rescaleSize(message) : null,
      reason: e.reason ?? '',
      message,
      controller: e.source?.component ?? e.reportingComponent ?? '',
    }, at !== undefined ? Math.min(Math.max(at, this.startedAt), Date.now()) : Date.now());
  }

  private onCnpg(type: string, c: CnpgClusterLike): void {
    if (type === 'DELETED') return;
    const current = c.status?.currentPrimary;
    const target = c.status?.targetPrimary;
    // CNPG sets targetPrimary first (failover or switchover begins) and currentPrimary once the new
    // primary is promoted: in between the cluster has no writable primary.
    if (current && target && target !== current && this.primaryDown !== current) {
      this.primaryDown = current;
      this.timeline.event('db.role', SOURCE, { member: current, role: 'down' });
    }
    if (current && current !== this.primary) {
      const previous = this.primary;
      this.primary = current;
      this.timeline.event('db.role', SOURCE, { member: current, role: 'primary' });
      if (previous && this.primaryDown !== previous) this.timeline.event('db.role', SOURCE, { member: previous, role: 'replica' });
      else if (previous) this.rejoin = { member: previous, seenUnhealthy: false };
      this.primaryDown = undefined;
    }
    // The old primary rejoins as a standby: it leaves the healthy instances (restarted, or its pod
    // recreated) and comes back. The status can list it healthy for a moment right after the switch,
    // before the operator has seen it go, so only a return after an absence counts.
    const healthy = c.status?.instancesStatus?.healthy;
    if (this.rejoin && healthy && this.rejoin.member !== current) {
      if (!healthy.includes(this.rejoin.member)) this.rejoin.seenUnhealthy = true;
      else if (this.rejoin.seenUnhealthy) {
        this.timeline.event('db.role', SOURCE, { member: this.rejoin.member, role: 'replica' });
        this.rejoin = undefined;
      }
    }
  }
}

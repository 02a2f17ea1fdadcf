// The kube adapter: an existing Kubernetes context (a staging cluster, or kind through clusters/kind).
// It does not deploy anything; it observes the target through watches and carries out actions through the
// API (@kubernetes/client-node). Destructive actions need the namespace's opt-in label (disruptions.ts).
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions,
} from '@kubernetes/client-node';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import type { Cluster, ClusterContext, ClusterFactory, ClusterOptions, Endpoint } from '../types.ts';
import { sleep } from '../wait.ts';
import { kubeCall } from './api-errors.ts';
import { DESTRUCTIVE_ACTIONS, disruptionRefusal, disruptionsAllowed } from './disruptions.ts';
import { imageOf, imageWithTag, readyCondition, rolloutProgress, versionOf, type DeploymentLike, type PodLike } from './objects.ts';
import { KubeObserver, SOURCE } from './observe.ts';
import { parseKubeSettings, type KubeSettings } from './settings.ts';
import { KubeRunners } from './runners.ts';
import type { RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../types.ts';

export { parseKubeSettings, type KubeSettings } from './settings.ts';
export { DISRUPTION_LABEL, DISRUPTION_VALUE } from './disruptions.ts';

type ActionName = 'rollout' | 'kill' | 'failover' | 'scale';

const CNPG = { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters' } as const;

interface CnpgCluster {
  metadata: { resourceVersion?: string };
  status?: { currentPrimary?: string; targetPrimary?: string; instanceNames?: string[]; instancesStatus?: Record<string, string[]> };
}

/** Same text as the CNPG plugin writes (PostgreSQL timestamp format, UTC). */
function pgTimestamp(d = new Date()): string {
  return d.toISOString().replace('T', ' ').replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class KubeCluster implements Cluster {
  readonly name = 'kube';
  readonly settings: KubeSettings;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly contextName: string;
  private readonly killedPods = new Set<string>();
  private activeRollout: { from: string; to: string; oldPods: ReadonlySet<string> } | undefined;
  private observer: KubeObserver | undefined;
  private runners: KubeRunners | undefined;
  /** The runners' image when the target built it (embedded); else the runnerImage setting. */
  private runnerImage: string | undefined;
  /** Present only when there is a way to fail the database over (CNPG cluster or a user command). */
  declare failover?: () => Promise<void>;

  constructor(private readonly ctx: ClusterContext, settings: KubeSettings, private readonly kc: KubeConfig) {
    this.settings = settings;
    this.contextName = kc.getCurrentContext() || 'current';
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    if (settings.failoverCommand || settings.cnpgCluster) this.failover = () => this.failoverDatabase();
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return kubeCall(what, this.contextName, fn);
  }

  endpoint(): Endpoint {
    return this.settings.prometheusUrl
      ? { baseUrl: this.settings.serviceUrl, prometheusUrl: this.settings.prometheusUrl }
      : { baseUrl: this.settings.serviceUrl };
  }

  /** Checks the target exists and is reachable, then starts observing. Never changes anything. */
  async up(): Promise<Endpoint> {
    const { namespace, deployment } = this.settings;
    await this.call(`GET namespace ${namespace}`, () => this.core.readNamespace({ name: namespace }));
    await this.call(`GET deployment ${namespace}/${deployment}`, () => this.apps.readNamespacedDeployment({ name: deployment, namespace }));
    this.observer ??= new KubeObserver(this.kc, this.settings, this.ctx.timeline, this.ctx.log, {
      killedPods: this.killedPods,
      activeRollout: () => this.activeRollout,
    });
    this.observer.start();
    return this.endpoint();
  }

  async down(): Promise<void> {
    // No load runner outlives the run: every Job still there is deleted and its pods waited for.
    await this.runners?.stopAll();
    this.observer?.stop();
    this.observer = undefined;
  }

  private loadRunners(): KubeRunners {
    this.runners ??= new KubeRunners({
      kc: this.kc, contextName: this.contextName, namespace: this.settings.namespace, log: this.ctx.log,
      image: () => this.runnerImage ?? this.settings.runnerImage,
    });
    return this.runners;
  }

  /** The image the runners run (the embedded cluster imports one it built); else the runnerImage setting. */
  useRunnerImage(ref: string): void {
    this.runnerImage = ref;
  }

  prepareLoadRunners(placement: RunnerPlacement): Promise<void> {
    return this.loadRunners().check(placement);
  }

  runnerBaseUrl(): string {
    return this.settings.runnerUrl ?? this.settings.serviceUrl;
  }

  runLoadInCluster(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob> {
    return this.loadRunners().start(request, events);
  }

  /** Watch connections opened so far (tests use it to see reconnects). */
  watchConnections(): number {
    return this.observer?.connections() ?? 0;
  }

  /** Before any load: refuse at once if the suite will need a destructive action the namespace forbids. */
  async preflight(actions: readonly ActionName[]): Promise<void> {
    const destructive = actions.filter((a) => (DESTRUCTIVE_ACTIONS as readonly string[]).includes(a));
    if (destructive.length > 0) await this.assertDisruptionsAllowed(destructive.join(', '));
    if (actions.includes('failover') && !this.failover) {
      throw errors.SLO_ERR_ACTION_UNSUPPORTED('the kube cluster has no way to fail the database over',
        'set cnpgCluster=<CloudNativePG Cluster name> or failoverCommand=<command>');
    }
  }

  /** Read live on every action: an operator may remove the label mid-run to stop the harness. */
  private async assertDisruptionsAllowed(action: string): Promise<void> {
    const ns = this.settings.namespace;
    const namespace = await this.call(`GET namespace ${ns}`, () => this.core.readNamespace({ name: ns }));
    if (!disruptionsAllowed(namespace.metadata?.labels)) throw disruptionRefusal(ns, action);
  }

  /**
   * Carries an action out. The harness records action.start / action.end around it (contract/timeline.ts
   * EVENT_WRITERS); the adapter records only what it observes (pods, rollout progress, roles).
   */
  private async action<T>(action: ActionName, detail: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    this.ctx.log(`kube: ${action} ${JSON.stringify(detail)}`);
    return run();
  }

  private readDeployment(): Promise<DeploymentLike> {
    const { namespace, deployment } = this.settings;
    return this.call(`GET deployment ${namespace}/${deployment}`,
      () => this.apps.readNamespacedDeployment({ name: deployment, namespace })) as Promise<DeploymentLike>;
  }

  /**
   * Rolls the deployment to `version`: a new image tag (and APP_VERSION) when it differs from the running
   * version, else a restart (the `kubectl rollout restart` annotation). Resolves when the rollout completes.
   */
  async rollout(version: string): Promise<void> {
    await this.assertDisruptionsAllowed('rollout');
    const { namespace, deployment, container } = this.settings;
    const current = await this.readDeployment();
    const from = versionOf(current.spec?.template?.spec, container);
    const image = imageOf(current.spec?.template?.spec, container);
    const oldPods = new Set(await this.listPodNames());
    await this.action('rollout', { from, to: version }, async () => {
      this.activeRollout = { from, to: version, oldPods };
      this.ctx.timeline.event('rollout', SOURCE, { from, to: version, state: 'start', updated: 0, total: current.spec?.replicas ?? 0 });
      try {
        const podPatch = version === from || !image
          ? { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } }
          : { spec: { containers: [{ name: container, image: imageWithTag(image, version), env: [{ name: 'APP_VERSION', value: version }] }] } };
        await this.call(`PATCH deployment ${namespace}/${deployment}`, () => this.apps.patchNamespacedDeployment(
          { name: deployment, namespace, body: { spec: { template: podPatch } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
        await this.waitForRollout(from, version, oldPods);
      } finally {
        this.activeRollout = undefined;
      }
    });
  }

  private async listPodNames(): Promise<string[]> {
    const { namespace, podSelector } = this.settings;
    const list = await this.call(`LIST pods ${namespace} -l ${podSelector}`, () => this.core.listNamespacedPod({ namespace, labelSelector: podSelector }));
    return list.items.map((pod) => pod.metadata?.name ?? '').filter(Boolean);
  }

  /**
   * Until the Deployment controller is done and every pod that ran before the rollout is gone. Kubernetes
   * calls a rollout complete once the last old pod is terminating, but that pod still answers on the
   * connections it holds through its preStop and drain: what it does then (drain or drop) belongs to the
   * rollout, and the version switch is only over once it has exited.
   */
  private async waitForRollout(from: string, to: string, oldPods: ReadonlySet<string>): Promise<void> {
    const deadline = Date.now() + this.settings.rolloutTimeoutS * 1000;
    while (!this.ctx.signal.aborted) {
      const d = await this.readDeployment();
      const p = rolloutProgress(d);
      if (p.done && !(await this.listPodNames()).some((name) => oldPods.has(name))) {
        this.ctx.timeline.event('rollout', SOURCE, { from, to, state: 'complete', updated: p.updated, total: p.total });
        return;
      }
      const failure = p.failed ?? (Date.now() > deadline ? `rollout to ${to} did not finish within ${this.settings.rolloutTimeoutS} s` : undefined);
      if (failure) {
        this.ctx.timeline.event('rollout', SOURCE, { from, to, state: 'failed', updated: p.updated, total: p.total });
        throw errors.SLO_ERR_ENV_TIMEOUT(failure, `kubectl -n ${this.settings.namespace} describe deployment ${this.settings.deployment}`);
      }
      await sleep(500, this.ctx.signal);
    }
    throw errors.SLO_ERR_RUN_ABORTED('rollout wait interrupted');
  }

  /** Deletes a pod with no grace period (a crash, not a shutdown). Picks a ready pod when none is named. */
  async killPod(pod?: string): Promise<string> {
    await this.assertDisruptionsAllowed('kill');
    const namespace = this.settings.namespace;
    const victim = pod ?? await this.pickReadyPod();
    return this.action('kill', { pod: victim }, async () => {
      this.killedPods.add(victim);
      await this.call(`DELETE pod ${namespace}/${victim}`, () => this.core.deleteNamespacedPod({ name: victim, namespace, gracePeriodSeconds: 0 }));
      return victim;
    });
  }

  private async pickReadyPod(): Promise<string> {
    const { namespace, podSelector } = this.settings;
    const list = await this.call(`LIST pods ${namespace} -l ${podSelector}`, () => this.core.listNamespacedPod({ namespace, labelSelector: podSelector }));
    const ready = (list.items as PodLike[]).filter((p) => readyCondition(p).ready && !p.metadata.deletionTimestamp);
    const chosen = ready[Math.floor(Math.random() * ready.length)];
    if (!chosen) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`no ready pod matches ${podSelector} in ${namespace} to kill`);
    return chosen.metadata.name;
  }

  async scale(replicas: number): Promise<void> {
    const { namespace, deployment } = this.settings;
    await this.action('scale', { replicas }, () => this.call(`PATCH deployment ${namespace}/${deployment}/scale`,
      () => this.apps.patchNamespacedDeploymentScale({ name: deployment, namespace, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch))));
  }

  private async failoverDatabase(): Promise<void> {
    await this.assertDisruptionsAllowed('failover');
    const command = this.settings.failoverCommand;
    if (command) {
      await this.action('failover', { command }, async () => {
        const result = await execa(command, { shell: true, reject: false, all: true, timeout: this.settings.failoverTimeoutS * 1000, cancelSignal: this.ctx.signal });
        if (result.exitCode !== 0) {
          throw errors.SLO_ERR_ENV_PROCESS_FAILED(`failover command exited ${result.exitCode ?? 'on a signal'}: ${(result.all ?? '').trim().split('\n').slice(-2).join(' | ')}`);
        }
      });
      return;
    }
    const cluster = await this.readCnpg();
    const primary = cluster.status?.currentPrimary;
    if (!primary) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`CNPG cluster ${this.settings.cnpgCluster} reports no current primary`);
    if (this.settings.failoverMode === 'delete-primary') {
      await this.action('failover', { mode: 'delete-primary', primary }, async () => {
        await this.call(`DELETE pod ${this.settings.namespace}/${primary}`,
          () => this.core.deleteNamespacedPod({ name: primary, namespace: this.settings.namespace, gracePeriodSeconds: 0 }));
        await this.waitForPrimary((p) => p !== undefined && p !== primary);
      });
      return;
    }
    const target = this.pickStandby(cluster, primary);
    await this.action('failover', { mode: 'promote', from: primary, to: target }, async () => {
      await this.promote(cluster, target);
      await this.waitForPrimary((p) => p === target);
    });
  }

  private readCnpg(): Promise<CnpgCluster> {
    const name = this.settings.cnpgCluster as string;
    return this.call(`GET CNPG cluster ${this.settings.namespace}/${name}`, () => this.custom.getNamespacedCustomObject(
      { ...CNPG, namespace: this.settings.namespace, name })) as Promise<CnpgCluster>;
  }

  private pickStandby(cluster: CnpgCluster, primary: string): string {
    const healthy = cluster.status?.instancesStatus?.healthy ?? cluster.status?.instanceNames ?? [];
    const standby = healthy.filter((n) => n !== primary).sort()[0];
    if (!standby) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`CNPG cluster ${this.settings.cnpgCluster} has no healthy standby to promote`);
    return standby;
  }

  /**
   * What `kubectl cnpg promote` does (internal/cmd/plugin/promote in cloudnative-pg): check the pod exists,
   * then set status.targetPrimary through the status subresource, guarded by resourceVersion; the operator
   * then performs the switchover.
   */
  private async promote(cluster: CnpgCluster, target: string): Promise<void> {
    const { namespace } = this.settings;
    const name = this.settings.cnpgCluster as string;
    await this.call(`GET pod ${namespace}/${target}`, () => this.core.readNamespacedPod({ name: target, namespace }));
    await this.call(`PATCH CNPG cluster ${namespace}/${name}/status`, () => this.custom.patchNamespacedCustomObjectStatus({
      ...CNPG, namespace, name,
      body: {
        metadata: { resourceVersion: cluster.metadata.resourceVersion },
        status: { targetPrimary: target, targetPrimaryTimestamp: pgTimestamp(), phase: 'Switchover in progress', phaseReason: `Switching over to ${target}` },
      },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  }

  private async waitForPrimary(done: (primary: string | undefined) => boolean): Promise<void> {
    const deadline = Date.now() + this.settings.failoverTimeoutS * 1000;
    while (!this.ctx.signal.aborted) {
      const cluster = await this.readCnpg();
      if (done(cluster.status?.currentPrimary) && cluster.status?.currentPrimary === cluster.status?.targetPrimary) return;
      if (Date.now() > deadline) {
        throw errors.SLO_ERR_ENV_TIMEOUT(`CNPG cluster ${this.settings.cnpgCluster} has no new primary after ${this.settings.failoverTimeoutS} s`,
          `kubectl -n ${this.settings.namespace} get cluster ${this.settings.cnpgCluster} -o yaml`);
      }
      await sleep(500, this.ctx.signal);
    }
    throw errors.SLO_ERR_RUN_ABORTED('failover wait interrupted');
  }
}

/** Loads the kubeconfig (settings.kubeconfig, else KUBECONFIG / ~/.kube/config) and selects the context. */
export function loadKubeConfig(settings: KubeSettings): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (settings.kubeconfig) kc.loadFromFile(settings.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw errors.SLO_ERR_KUBE_API(`cannot read kubeconfig ${settings.kubeconfig ?? '(default)'}: ${(err as Error).message}`, 'set kubeconfig=<file> or KUBECONFIG', { cause: err });
  }
  if (settings.context) {
    if (!kc.getContextObject(settings.context)) {
      throw errors.SLO_ERR_CLI_USAGE(`kube context ${settings.context} is not in the kubeconfig`,
        `known contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
    kc.setCurrentContext(settings.context);
  }
  if (!kc.getCurrentCluster()) throw errors.SLO_ERR_CLI_USAGE('the kubeconfig has no current context', 'set context=<name>');
  return kc;
}

export const createKubeCluster: ClusterFactory = (ctx: ClusterContext, options: ClusterOptions): Cluster => {
  const settings = parseKubeSettings(options.settings);
  return new KubeCluster(ctx, settings, loadKubeConfig(settings));
};

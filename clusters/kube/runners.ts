// Load from many machines: the embedded engine (load/embedded, vegeta's library) as an Indexed Job in the
// target cluster, N pods (completionMode Indexed, parallelism = completions = N, backoffLimit 0), each
// reading the same plan (rates already split, one shared t=0) from a ConfigMap. Each pod's output (one line
// per result, PROTOCOL.md) comes back through the API server's pod log stream, followed while the step runs
// and tagged with the pod's completion index (its JOB_COMPLETION_INDEX). Nothing runs unless the namespace
// opts in with the same label as disruptions; the Job is deleted (and its pods waited for) when the step
// ends, when a runner is lost, on Ctrl-C and in down(); activeDeadlineSeconds ends it anyway if the harness
// itself is lost.
import { PassThrough } from 'node:stream';
import { BatchV1Api, CoreV1Api, Log, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { errors } from '../../contract/errors.ts';
import type { RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../types.ts';
import { sleep } from '../wait.ts';
import { httpStatusOf, kubeCall } from './api-errors.ts';
import { DISRUPTION_LABEL, DISRUPTION_VALUE, disruptionsAllowed } from './disruptions.ts';

/** Every object of a step's runners carries it, valued with the Job's name. */
export const RUNNERS_LABEL = 'slo-harness.io/load-runners';
export const RUNNER_CONTAINER = 'slo-load';
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'slo-harness' };
const PLAN_DIR = '/plan';
const POLL_MS = 500;

export interface RunnerManifests { configMap: V1ConfigMap; job: V1Job }

/** The plan's ConfigMap and the Indexed Job (pure). */
export function runnerManifests(request: RunnerJobRequest, image: string, namespace: string): RunnerManifests {
  if (!Number.isInteger(request.runners) || request.runners < 1) throw new Error(`runners must be an integer >= 1, got ${request.runners}`);
  const labels = { ...MANAGED_BY, [RUNNERS_LABEL]: request.name };
  const placement = request.placement;
  const resources = placement.resources && (placement.resources.requests || placement.resources.limits)
    ? { ...(placement.resources.requests ? { requests: placement.resources.requests } : {}), ...(placement.resources.limits ? { limits: placement.resources.limits } : {}) }
    : undefined;
  const configMap: V1ConfigMap = {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${request.name}-plan`, namespace, labels }, data: { 'plan.json': request.plan },
  };
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: request.name, namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: request.runners,
      parallelism: request.runners,
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(60, Math.ceil(request.deadlineS)),
      ttlSecondsAfterFinished: 300,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 5,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(placement.nodeSelector ? { nodeSelector: placement.nodeSelector } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
          containers: [{
            name: RUNNER_CONTAINER,
            image,
            imagePullPolicy: 'IfNotPresent',
            // No stdin in a pod, so no --stop-on-stdin-eof: the Job's deletion (SIGTERM) stops the engine.
            args: ['--plan', `${PLAN_DIR}/plan.json`],
            ...(resources ? { resources } : {}),
            volumeMounts: [{ name: 'plan', mountPath: PLAN_DIR, readOnly: true }],
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          }],
          volumes: [{ name: 'plan', configMap: { name: `${request.name}-plan` } }],
        },
      },
    },
  };
  return { configMap, job };
}

/** The completion index of a runner pod (its JOB_COMPLETION_INDEX), or undefined. */
export function runnerIndex(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.annotations?.[INDEX_ANNOTATION] ?? pod.metadata?.labels?.[INDEX_ANNOTATION];
  const index = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}

/** Why a pod cannot run (image missing, unschedulable...), when it is stuck; undefined while it may still start. */
export function stuckReason(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError|CrashLoopBackOff/.test(waiting.reason)) {
    return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  return unschedulable ? `unschedulable: ${unschedulable.message ?? ''}` : undefined;
}

/**
 * Splits a log stream with timestamps (`<RFC3339Nano> <line>`) into lines; remembers the last timestamp so a
 * stream reopened with sinceTime can skip what it already gave.
 */
export class LogCursor {
  lastTs = '';
  seenAtLastTs = 0;
  private skipTs = '';
  private skipLeft = 0;

  /** Before a reconnect: lines up to the cursor come again and are skipped. */
  rewind(): void {
    this.skipTs = this.lastTs;
    this.skipLeft = this.seenAtLastTs;
  }

  /** The line without its timestamp, or null when it was already delivered. */
  take(raw: string): string | null {
    const space = raw.indexOf(' ');
    const ts = space > 0 ? raw.slice(0, space) : '';
    const line = space > 0 ? raw.slice(space + 1) : raw;
    if (this.skipTs !== '' && ts !== '') {
      if (ts < this.skipTs) return null;
      if (ts === this.skipTs && this.skipLeft > 0) { this.skipLeft -= 1; return null; }
      this.skipTs = '';
    }
    if (ts !== '') {
      if (ts === this.lastTs) this.seenAtLastTs += 1;
      else { this.lastTs = ts; this.seenAtLastTs = 1; }
    }
    return line;
  }
}

interface Tracked {
  pod: string;
  streaming: boolean;
  ended: boolean;
  cursor: LogCursor;
  abort?: AbortController;
}

export interface KubeRunnersOptions {
  kc: KubeConfig;
  contextName: string;
  /** Namespace the runners go to when the spec names none (the service's). */
  namespace: string;
  /** The engine's image as the cluster's nodes can get it; undefined: the user has not named one. */
  image: () => string | undefined;
  log: (line: string) => void;
}

export class KubeRunners {
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  private readonly logs: Log;
  private readonly live = new Map<string, { namespace: string; stop: () => Promise<void> }>();

  constructor(private readonly options: KubeRunnersOptions) {
    this.core = options.kc.makeApiClient(CoreV1Api);
    this.batch = options.kc.makeApiClient(BatchV1Api);
    this.logs = new Log(options.kc);
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return kubeCall(what, this.options.contextName, fn);
  }

  namespaceFor(placement: RunnerPlacement): string {
    return placement.namespace ?? this.options.namespace;
  }

  /** Before any load: an image to run and a namespace that opted in (read live, like disruptions). */
  async check(placement: RunnerPlacement): Promise<void> {
    if (!this.options.image()) {
      throw errors.SLO_ERR_CLI_USAGE('distributed load needs the runners\' image: --set runnerImage=<registry>/slo-load:<tag>',
        'build it with `npx tsx clusters/embedded/runner-image.ts slo-load.tar`, push it (e.g. `skopeo copy docker-archive:slo-load.tar docker://<registry>/slo-load:<tag>`, or `kind load image-archive slo-load.tar`)');
    }
    const ns = this.namespaceFor(placement);
    const namespace = await this.call(`GET namespace ${ns}`, () => this.core.readNamespace({ name: ns }));
    if (!disruptionsAllowed(namespace.metadata?.labels)) {
      throw errors.SLO_ERR_DISRUPTION_NOT_ALLOWED(`refusing to run load runners: namespace ${ns} lacks label ${DISRUPTION_LABEL}=${DISRUPTION_VALUE}`,
        `if running the harness's pods there is fine, run: kubectl label namespace ${ns} ${DISRUPTION_LABEL}=${DISRUPTION_VALUE}`);
    }
  }

  async start(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob> {
    await this.check(request.placement);
    const namespace = this.namespaceFor(request.placement);
    const { configMap, job } = runnerManifests(request, this.options.image()!, namespace);
    await this.call(`CREATE configmap ${namespace}/${configMap.metadata!.name!}`, () => this.core.createNamespacedConfigMap({ namespace, body: configMap }));
    let created: V1Job;
    try {
      created = await this.call(`CREATE job ${namespace}/${request.name}`, () => this.batch.createNamespacedJob({ namespace, body: job }));
    } catch (error) {
      await this.deleteQuietly(namespace, request.name);
      throw error;
    }
    // The plan goes with the Job (garbage collection), whoever deletes it.
    await this.core.patchNamespacedConfigMap({
      name: configMap.metadata!.name!, namespace,
      body: { metadata: { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: request.name, uid: created.metadata!.uid!, blockOwnerDeletion: false }] } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)).catch(() => undefined);
    events.log(`kube: created Indexed Job ${namespace}/${request.name} (${request.runners} runners, image ${this.options.image()!})`);

    const tracked = new Map<number, Tracked>();
    let stopped = false;
    let stopping: Promise<void> | undefined;
    const end = (index: number, outcome: { exitCode: number | null; reason?: string }) => {
      const t = tracked.get(index);
      if (!t || t.ended) return;
      t.ended = true;
      t.abort?.abort();
      if (!stopped) events.ended(index, outcome);
    };

    const follow = async (index: number, t: Tracked): Promise<void> => {
      for (let attempt = 0; !stopped && !t.ended; attempt++) {
        const out = new PassThrough();
        out.setEncoding('utf8');
        let rest = '';
        out.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop() ?? '';
          for (const raw of lines) {
            const line = t.cursor.take(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
            if (line !== null && !stopped && !t.ended) events.line(index, line);
          }
        });
        const closed = new Promise<void>((resolve) => { out.once('end', resolve); out.once('close', resolve); out.once('error', () => resolve()); });
        try {
          if (attempt > 0) t.cursor.rewind();
          t.abort = await this.logs.log(namespace, t.pod, RUNNER_CONTAINER, out, {
            follow: true, timestamps: true, ...(attempt > 0 && t.cursor.lastTs ? { sinceTime: t.cursor.lastTs.replace(/\.\d+Z$/, 'Z') } : {}),
          });
        } catch (error) {
          if (stopped || t.ended) return;
          if (attempt >= 5) { end(index, { exitCode: null, reason: `its log could not be read: ${(error as Error).message}` }); return; }
          await sleep(1000);
          continue;
        }
        await closed;
        if (rest !== '') { const line = t.cursor.take(rest); if (line !== null && !stopped && !t.ended) events.line(index, line); }
        if (stopped || t.ended) return;
        // The stream ended: the container exited, the pod went, or the connection dropped (then follow again).
        const fate = await this.fateOf(namespace, t.pod);
        if (fate) { end(index, fate); return; }
        events.log(`kube: the log stream of ${t.pod} ended while it runs; following it again`);
      }
    };

    // Pods: found by label, each followed once it runs; a stuck, failed or vanished pod ends its runner.
    const watching = (async () => {
      const startedAt = Date.now();
      while (!stopped) {
        let pods: V1Pod[] = [];
        try {
          pods = (await this.core.listNamespacedPod({ namespace, labelSelector: `${RUNNERS_LABEL}=${request.name}` })).items;
        } catch (error) {
          events.log(`kube: listing the runner pods failed: ${(error as Error).message}`);
        }
        for (const pod of pods) {
          const index = runnerIndex(pod);
          const name = pod.metadata?.name;
          if (index === undefined || !name) continue;
          let t = tracked.get(index);
          if (!t) {
            t = { pod: name, streaming: false, ended: false, cursor: new LogCursor() };
            tracked.set(index, t);
            events.log(`kube: runner ${index} is pod ${name}`);
          } else if (t.pod !== name) {
            // The Job replaced a lost pod: that runner's output is already broken.
            end(index, { exitCode: null, reason: `pod ${t.pod} was replaced by ${name}` });
            continue;
          }
          if (t.ended) continue;
          const phase = pod.status?.phase;
          const stuck = stuckReason(pod);
          if (stuck) end(index, { exitCode: null, reason: `pod ${name} cannot run: ${stuck}` });
          else if (!t.streaming && (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed')) {
            t.streaming = true;
            void follow(index, t);
          }
        }
        // A tracked pod that is gone (deleted, evicted) while its log is still open: the stream ends too, but
        // say why.
        for (const [index, t] of tracked) {
          if (!t.ended && !pods.some((p) => p.metadata?.name === t.pod)) end(index, { exitCode: null, reason: `pod ${t.pod} was deleted` });
        }
        if (tracked.size === request.runners && [...tracked.values()].every((t) => t.ended)) return;
        if (Date.now() - startedAt > request.deadlineS * 1000) return;
        await sleep(POLL_MS);
      }
    })();

    const stop = async () => {
      stopped = true;
      for (const t of tracked.values()) t.abort?.abort();
      await watching.catch(() => undefined);
      await this.deleteAndWait(namespace, request.name);
      this.live.delete(`${namespace}/${request.name}`);
    };
    const handle: RunnerJob = { stop: () => (stopping ??= stop()) };
    this.live.set(`${namespace}/${request.name}`, { namespace, stop: handle.stop });
    return handle;
  }

  /** After a runner's stream ended: how its container ended, or that its pod is gone; null while it still runs. */
  private async fateOf(namespace: string, pod: string): Promise<{ exitCode: number | null; reason?: string } | null> {
    for (let i = 0; i < 20; i++) {
      let current: V1Pod;
      try {
        current = await this.core.readNamespacedPod({ name: pod, namespace });
      } catch (error) {
        if (httpStatusOf(error) === 404) return { exitCode: null, reason: `pod ${pod} was deleted` };
        await sleep(POLL_MS);
        continue;
      }
      const terminated = current.status?.containerStatuses?.[0]?.state?.terminated;
      if (terminated) {
        const exitCode = terminated.exitCode;
        return exitCode === 0 ? { exitCode } : { exitCode, reason: `pod ${pod} ${terminated.reason ? `${terminated.reason}, ` : ''}exit code ${exitCode}` };
      }
      if (current.metadata?.deletionTimestamp) return { exitCode: null, reason: `pod ${pod} was deleted` };
      if (current.status?.containerStatuses?.[0]?.state?.running) return null;
      await sleep(POLL_MS);
    }
    return { exitCode: null, reason: `pod ${pod}'s log ended and its container never reported how` };
  }

  private async deleteQuietly(namespace: string, name: string): Promise<void> {
    await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background', gracePeriodSeconds: 0 }).catch(() => undefined);
    await this.core.deleteNamespacedConfigMap({ name: `${name}-plan`, namespace }).catch(() => undefined);
  }

  /** Deletes the Job (its pods with it) and the plan, then waits until no pod of it is left. */
  async deleteAndWait(namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
    await this.deleteQuietly(namespace, name);
    // Background propagation lets the Job go at once; the pods are deleted right after, so wait for them.
    await this.core.deleteCollectionNamespacedPod({ namespace, labelSelector: `${RUNNERS_LABEL}=${name}`, gracePeriodSeconds: 0 }).catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    const selector = { namespace, labelSelector: `${RUNNERS_LABEL}=${name}` };
    while (Date.now() < deadline) {
      const [pods, jobs] = await Promise.all([
        this.core.listNamespacedPod(selector).then((l) => l.items.length, () => 1),
        this.batch.listNamespacedJob(selector).then((l) => l.items.length, () => 1),
      ]);
      if (pods === 0 && jobs === 0) return;
      await sleep(POLL_MS);
    }
    throw errors.SLO_ERR_ENV_TIMEOUT(`the runners' Job ${namespace}/${name} or its pods were still there ${timeoutMs / 1000} s after it was deleted`,
      `kubectl -n ${namespace} get pods -l ${RUNNERS_LABEL}=${name}`);
  }

  /** down(): every Job this harness started and has not deleted yet. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live.values()].map((j) => j.stop().catch((error: unknown) => this.options.log(`kube: ${(error as Error).message}`))));
  }
}

// The local cluster: Kubernetes semantics played by plain processes on loopback. Replicas are process groups
// ("pods"), HAProxy is the Service, a readiness probe loop is the kubelet, hpa.ts is the
// HorizontalPodAutoscaler, Prometheus scrapes every pod, and PostgreSQL HA comes from ./database.
//
// Removal of a pod (rollout, scale-down) follows Kubernetes: SIGTERM at the moment removal starts, while the
// endpoint only leaves the load balancer after `propagationDelayMs` (kube-proxy / ingress lag). A service
// that exits at once on SIGTERM therefore drops requests here, as it would in a cluster.
//
// Orphans: every process is its own group with a pid file under <runDir>/pids. down() stops them, a
// process-exit hook SIGKILLs what is left, and when the harness itself was SIGKILLed the next up() in the
// same runs folder reaps the leftovers (see processes.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { execa } from 'execa';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, ClusterContext, ClusterFactory, ClusterOptions, Endpoint } from '../types.ts';
import { errors } from '../../contract/errors.ts';
import { CpuMeter, groupCpuSeconds } from './cpu.ts';
import { HAPROXY_BIN, startHaproxy, type LoadBalancer } from './haproxy.ts';
import { DEFAULT_SPEC, decide, emptyMemory, type HpaMemory, type HpaSpec, type PodView } from './hpa.ts';
import { Pod, type StopReason } from './pod.ts';
import { freePort } from './ports.ts';
import { claimRunDir, reapRunGroups, reapStaleGroups } from './processes.ts';
import { sleep } from '../wait.ts';
import { reapDatabase, startDatabase, type Database } from './database/index.ts';
import { PG_BIN_DIR } from './database/config.ts';
import { PATRONI_BIN } from './database/member.ts';
import { queryServerP95, startPrometheus, type PrometheusServer } from './prometheus.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings read from `options.settings` (all optional). */
export interface LocalSettings {
  /** Run the autoscaler (default true). */
  hpa: boolean;
  /** CPU request per replica, millicores (default 50: small enough that 20 replicas of the reference service fit a 2-core machine, so the spike can show 3 -> 20). */
  cpuRequestMilli: number;
  /** HPA target average CPU utilization, percent (default 70, as in reference-app/k8s). */
  targetCpuPercent: number;
  /** HPA scale-down stabilization window, seconds (default 300 as upstream). */
  scaleDownStabilizationS: number;
  /** HPA --horizontal-pod-autoscaler-cpu-initialization-period, seconds (default 300). */
  cpuInitializationPeriodS: number;
  /** How long an endpoint keeps receiving traffic after its pod got SIGTERM (default 1500 ms). */
  propagationDelayMs: number;
  /** terminationGracePeriodSeconds, in ms (default 30000): SIGKILL after it. */
  terminationGraceMs: number;
  /** Kubelet restart backoff after a pod died (default 1000 ms). */
  restartBackoffMs: number;
  /** Readiness probe period (default 500 ms; probes cost every replica CPU, which the autoscaler sees). */
  probePeriodMs: number;
  /** DRAIN_DELAY_MS given to the app, when set. */
  drainDelayMs: number | undefined;
  /** Start PostgreSQL HA and give the app DATABASE_URL (default true). */
  database: boolean;
  /** Start Prometheus (default true). */
  prometheus: boolean;
}

/**
 * A compressed profile compresses this target's own autoscaler clocks too: with upstream's 300 s scale-down
 * stabilization a ten-times-shorter spike could never be seen scaling back. The user's settings win.
 */
function compressedDefaults(timeScale: number | undefined, syncS: number): Record<string, string> {
  if (timeScale === undefined || timeScale >= 1) return {};
  const scaled = (seconds: number) => String(Math.max(syncS, Math.round(seconds * timeScale)));
  return { scaleDownStabilizationS: scaled(300), cpuInitializationPeriodS: scaled(300) };
}

function readSettings(settings: ClusterOptions['settings'] = {}): LocalSettings {
  const num = (key: string, fallback: number) => {
    const value = settings[key];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw errors.SLO_ERR_CLI_USAGE(`local cluster setting ${key}=${String(value)} is not a non-negative number`);
    return n;
  };
  const bool = (key: string, fallback: boolean) => (settings[key] === undefined ? fallback : settings[key] === true || settings[key] === 'true');
  return {
    hpa: bool('hpa', true),
    cpuRequestMilli: num('cpuRequestMilli', 50),
    targetCpuPercent: num('targetCpuPercent', 70),
    scaleDownStabilizationS: num('scaleDownStabilizationS', 300),
    cpuInitializationPeriodS: num('cpuInitializationPeriodS', 300),
    propagationDelayMs: num('propagationDelayMs', 1500),
    terminationGraceMs: num('terminationGraceMs', 30_000),
    restartBackoffMs: num('restartBackoffMs', 1000),
    probePeriodMs: num('probePeriodMs', 500),
    drainDelayMs: settings.drainDelayMs === undefined ? undefined : num('drainDelayMs', 0),
    database: bool('database', true),
    prometheus: bool('prometheus', true),
  };
}

const SOURCE = 'cluster/local';

class LocalCluster implements Cluster {
  readonly name = 'processes';
  private readonly settings: LocalSettings;
  private readonly replicas: { min: number; max: number; initial: number };
  private version: string;
  private desired: number;
  private readonly pods = new Map<string, Pod>();
  private podCounter = 0;
  private lb: LoadBalancer | undefined;
  private prometheus: PrometheusServer | undefined;
  private database: Database | undefined;
  private endpointValue: Endpoint | undefined;
  private ops: Promise<unknown> = Promise.resolve();
  private hpaTimer: NodeJS.Timeout | undefined;
  private hpaMemory: HpaMemory = emptyMemory();
  private readonly cpu = new CpuMeter();
  private lastReplicasEvent = '';
  private stopping = false;
  private downPromise: Promise<void> | undefined;
  private telemetryEnv: Record<string, string>;
  private readonly onAbort = () => void this.down();

  constructor(private readonly ctx: ClusterContext, private readonly options: ClusterOptions) {
    this.settings = readSettings({ ...compressedDefaults(options.timeScale, options.autoscalerSyncS ?? 15), ...options.settings });
    this.telemetryEnv = {};
    this.replicas = options.replicas ?? { min: 3, max: 20, initial: 3 };
    this.version = options.version ?? 'v1';
    this.desired = this.replicas.initial;
  }

  async up(): Promise<Endpoint> {
    const { runDir, signal } = this.ctx;
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    const { killed, staleRuns } = reapStaleGroups(dirname(resolve(runDir)));
    for (const stale of staleRuns) if (existsSync(join(stale, 'db'))) await reapDatabase(stale);
    if (killed > 0) this.ctx.log(`local: killed ${killed} processes left behind by an earlier crashed run`);
    claimRunDir(runDir);
    signal.addEventListener('abort', this.onAbort, { once: true });
    try {
      if (this.settings.database) {
        this.database = await startDatabase({ runDir, timeline: this.ctx.timeline, signal, log: this.ctx.log });
      }
      this.lb = await startHaproxy(runDir, signal);
      if (this.settings.prometheus) this.prometheus = await startPrometheus(runDir, signal);
      this.endpointValue = { baseUrl: this.lb.baseUrl, ...(this.prometheus ? { prometheusUrl: this.prometheus.url } : {}) };
      this.emitReplicas();
      await this.enqueue(() => this.reconcile());
      if (this.settings.hpa) this.startAutoscaler();
      return this.endpointValue;
    } catch (error) {
      await this.down();
      throw error;
    }
  }

  endpoint(): Endpoint {
    if (!this.endpointValue) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the local cluster is not up');
    return this.endpointValue;
  }

  serverLatency(fromMs: number, toMs: number): Promise<{ p95Ms: number | null; requests: number }> {
    if (!this.prometheus) return Promise.reject(errors.SLO_ERR_ENV_PROCESS_FAILED('the local cluster runs no Prometheus (prometheus=false)'));
    return queryServerP95(this.prometheus.url, fromMs, toMs);
  }

  /** The pods run on this machine, so they reach the harness's OTLP receiver on loopback. */
  sendTelemetryTo(env: Record<string, string>): void {
    this.telemetryEnv = { ...env };
  }

  podLogsDir(): string {
    return join(this.ctx.runDir, 'logs');
  }

  /** Only the named run folder: its process groups from the pid files, and its database processes. */
  async reap(runDir: string): Promise<string> {
    const groups = reapRunGroups(runDir);
    const database = await reapDatabase(runDir);
    return `reaped ${groups} processes and ${database} database processes left in ${runDir}`;
  }

  /** Pods by name, for tests and diagnostics. */
  podNames(): string[] {
    return [...this.pods.values()].filter((p) => !p.terminating).map((p) => p.name);
  }

  async scale(replicas: number): Promise<void> {
    this.desired = replicas;
    this.emitReplicas();
    await this.enqueue(() => this.reconcile());
  }

  /** Rolling update, maxSurge 1, maxUnavailable 0. */
  async rollout(version: string): Promise<void> {
    await this.enqueue(async () => {
      const from = this.version;
      const old = this.livePods().filter((p) => p.version !== version);
      const total = Math.max(this.desired, old.length);
      this.version = version;
      let updated = this.livePods().filter((p) => p.version === version).length;
      this.ctx.timeline.event('rollout', SOURCE, { from, to: version, state: 'start', updated, total });
      const removals: Promise<void>[] = [];
      try {
        for (const pod of old) {
          await this.startPod(version);
          updated++;
          // The old pod is no longer needed: its removal runs on while the next new pod starts.
          removals.push(this.removePod(pod, 'rollout'));
          this.ctx.timeline.event('rollout', SOURCE, { from, to: version, state: 'progress', updated, total });
        }
        await Promise.all(removals);
        this.ctx.timeline.event('rollout', SOURCE, { from, to: version, state: 'complete', updated, total });
      } catch (error) {
        this.ctx.timeline.event('rollout', SOURCE, { from, to: version, state: 'failed', updated, total });
        throw error;
      }
    });
  }

  /** SIGKILLs one pod (a random ready one by default); the "kubelet" restarts it after a backoff. */
  async killPod(name?: string): Promise<string> {
    const candidates = this.livePods().filter((p) => (name ? p.name === name : p.isReady));
    const pod = candidates[Math.floor(Math.random() * candidates.length)];
    if (!pod) throw errors.SLO_ERR_ACTION_UNSUPPORTED(name ? `no pod named ${name}` : 'no ready pod to kill');
    pod.killRequested = true;
    const exited = pod.exited;
    pod.group.signal('SIGKILL');
    await exited;
    return pod.name;
  }

  down(): Promise<void> {
    this.downPromise ??= this.teardown();
    return this.downPromise;
  }

  private async teardown(): Promise<void> {
    this.stopping = true;
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    if (this.hpaTimer) clearInterval(this.hpaTimer);
    const pods = [...this.pods.values()];
    for (const pod of pods) {
      pod.stopProbing();
      pod.stopReason ??= 'teardown';
    }
    await Promise.all(pods.map((pod) => pod.group.stop(3_000)));
    await Promise.allSettled([this.lb?.stop(), this.prometheus?.stop(), this.database?.stop()]);
  }

  private livePods(): Pod[] {
    return [...this.pods.values()].filter((p) => !p.terminating);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.ops.then(op, op);
    this.ops = next.catch(() => undefined);
    return next;
  }

  /** Brings the number of live pods to `desired`, like a ReplicaSet controller. */
  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    const live = this.livePods();
    if (live.length < this.desired) {
      await Promise.all(Array.from({ length: this.desired - live.length }, () => this.startPod(this.version)));
    } else if (live.length > this.desired) {
      // ReplicaSet deletion order, simplified: unready first, then the youngest.
      const victims = [...live]
        .sort((a, b) => Number(a.isReady) - Number(b.isReady) || b.startTime - a.startTime)
        .slice(0, live.length - this.desired);
      await Promise.all(victims.map((pod) => this.removePod(pod, 'scale-down')));
    }
  }

  private appCommand(): { command: string; args?: string[]; shell: boolean; cwd: string } {
    if (this.options.app) return { command: this.options.app, shell: true, cwd: process.cwd() };
    return { command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'reference-app', 'src', 'server.ts')], shell: false, cwd: REPO_ROOT };
  }

  /** Starts a pod and resolves once it is ready and UP in the load balancer. */
  private async startPod(version: string): Promise<Pod> {
    if (this.stopping) throw errors.SLO_ERR_RUN_ABORTED('the local cluster is shutting down');
    const name = `app-${version}-${++this.podCounter}`;
    const env: Record<string, string> = { ...this.options.env, ...this.telemetryEnv };
    if (this.database) env.DATABASE_URL = this.database.url;
    if (this.settings.drainDelayMs !== undefined) env.DRAIN_DELAY_MS = String(this.settings.drainDelayMs);
    const pod = new Pod({ name, version, port: await freePort(), runDir: this.ctx.runDir, env, ...this.appCommand() });
    this.pods.set(name, pod);
    this.ctx.timeline.event('pod.start', SOURCE, { pod: name, version });
    this.watchExit(pod);
    const firstReady = new Promise<void>((resolveReady, rejectReady) => {
      pod.startProbing(this.settings.probePeriodMs, (p) => {
        if (p.ready?.status) resolveReady();
        this.onReadinessChange(p);
      });
      void pod.exited.then(() => rejectReady(errors.SLO_ERR_ENV_PROCESS_FAILED(`pod ${name} exited before it was ready; see ${join(this.ctx.runDir, 'logs', name + '.log')}`)));
    });
    await firstReady;
    await this.lb?.addServer(name, pod.spec.port, this.ctx.signal);
    pod.inLoadBalancer = true;
    this.updateScrapeTargets();
    this.emitReplicas();
    return pod;
  }

  private onReadinessChange(pod: Pod): void {
    if (pod.ready?.status && pod.outOfRotation && !this.stopping) {
      pod.outOfRotation = false;
      void this.lb?.setServerState(pod.name, 'ready').catch(() => undefined);
    }
    if (pod.ready?.status) this.ctx.timeline.event('pod.ready', SOURCE, { pod: pod.name, version: pod.version });
    this.emitReplicas();
  }

  /** Kubernetes pod termination: SIGTERM now, endpoint removal after the propagation delay. */
  private async removePod(pod: Pod, reason: StopReason): Promise<void> {
    if (pod.terminating) return;
    pod.stopReason = reason;
    pod.stopProbing();
    this.emitReplicas();
    const exited = pod.group.stop(this.settings.terminationGraceMs);
    const endpointGone = (async () => {
      await sleep(this.settings.propagationDelayMs);
      if (pod.inLoadBalancer) await this.lb?.removeServer(pod.name);
      pod.inLoadBalancer = false;
    })();
    await Promise.all([exited, endpointGone]);
  }

  /** The "kubelet": a pod that dies on its own (or is killed) is restarted after a backoff. */
  private watchExit(pod: Pod): void {
    const group = pod.group;
    void group.exited.then(async (exit) => {
      const exitCode = exit.code ?? null;
      if (pod.terminating) {
        this.ctx.timeline.event('pod.stop', SOURCE, { pod: pod.name, reason: pod.stopReason ?? 'exited', exitCode });
        this.pods.delete(pod.name);
        this.cpu.forget(pod.name);
        this.updateScrapeTargets();
        this.emitReplicas();
        return;
      }
      this.ctx.timeline.event('pod.stop', SOURCE, { pod: pod.name, reason: pod.killRequested ? 'killed' : 'exited', exitCode });
      if (pod.inLoadBalancer) {
        pod.outOfRotation = true;
        await this.lb?.setServerState(pod.name, 'maint').catch(() => undefined);
      }
      if (pod.ready?.status) pod.ready = { status: false, lastTransitionTime: Date.now() };
      this.emitReplicas();
      await sleep(this.settings.restartBackoffMs);
      if (this.stopping || pod.terminating) {
        this.pods.delete(pod.name);
        return;
      }
      pod.restart();
      this.ctx.timeline.event('pod.start', SOURCE, { pod: pod.name, version: pod.version });
      this.watchExit(pod);
      // The load balancer entry stayed, in maintenance: onReadinessChange hands it back to HAProxy's checks
      // once the probe passes.
      pod.startProbing(this.settings.probePeriodMs, (p) => this.onReadinessChange(p));
    });
  }

  private updateScrapeTargets(): void {
    if (!this.prometheus || this.stopping) return;
    this.prometheus.setTargets([...this.pods.values()].filter((p) => p.group.alive()).map((p) => ({ port: p.spec.port, pod: p.name, version: p.version })));
  }

  private emitReplicas(): void {
    if (this.stopping) return;
    const ready = this.livePods().filter((p) => p.isReady && p.inLoadBalancer).length;
    const key = `${this.desired}/${ready}`;
    if (key === this.lastReplicasEvent) return;
    this.lastReplicasEvent = key;
    this.ctx.timeline.event('replicas', SOURCE, { desired: this.desired, ready });
  }

  private hpaSpec(): HpaSpec {
    const syncS = this.options.autoscalerSyncS ?? 15;
    // Rate-limit periods scale with the sync period, so a compressed run behaves like a real one, faster.
    const scale = syncS / 15;
    const period = (seconds: number) => Math.max(1, Math.round(seconds * scale));
    return {
      ...DEFAULT_SPEC,
      minReplicas: this.replicas.min,
      maxReplicas: this.replicas.max,
      targetCpuUtilization: this.settings.targetCpuPercent,
      cpuInitializationPeriodMs: this.settings.cpuInitializationPeriodS * 1000,
      initialReadinessDelayMs: 30_000 * scale,
      behavior: {
        scaleUp: { ...DEFAULT_SPEC.behavior.scaleUp, policies: DEFAULT_SPEC.behavior.scaleUp.policies.map((p) => ({ ...p, periodSeconds: period(p.periodSeconds) })) },
        scaleDown: {
          ...DEFAULT_SPEC.behavior.scaleDown,
          stabilizationWindowSeconds: this.settings.scaleDownStabilizationS,
          policies: DEFAULT_SPEC.behavior.scaleDown.policies.map((p) => ({ ...p, periodSeconds: period(p.periodSeconds) })),
        },
      },
    };
  }

  private startAutoscaler(): void {
    const syncMs = (this.options.autoscalerSyncS ?? 15) * 1000;
    const spec = this.hpaSpec();
    this.hpaTimer = setInterval(() => this.syncAutoscaler(spec), syncMs);
    this.hpaTimer.unref();
    // Prime the CPU meter, so the first sync already has a window.
    this.sampleCpu(Date.now());
  }

  private sampleCpu(now: number): Map<string, { milli: number; windowMs: number }> {
    const pods = this.livePods();
    const seconds = groupCpuSeconds(pods.map((p) => p.group.pid));
    const samples = new Map<string, { milli: number; windowMs: number }>();
    for (const pod of pods) {
      // Keyed by incarnation: a restarted pod starts a fresh window.
      const sample = this.cpu.sample(`${pod.name}:${pod.group.pid}`, seconds.get(pod.group.pid) ?? 0, now);
      if (sample) samples.set(pod.name, sample);
    }
    return samples;
  }

  private syncAutoscaler(spec: HpaSpec): void {
    if (this.stopping) return;
    const now = Date.now();
    const samples = this.sampleCpu(now);
    const views: PodView[] = this.livePods().map((pod) => {
      const sample = samples.get(pod.name);
      return {
        name: pod.name,
        phase: pod.group.alive() ? 'Running' : 'Pending',
        deleting: false,
        startTime: pod.startTime,
        ready: pod.ready,
        requestMilli: this.settings.cpuRequestMilli,
        ...(sample ? { metric: { milli: sample.milli, timestamp: now, windowMs: sample.windowMs } } : {}),
      };
    });
    const current = this.desired;
    const decision = decide(spec, this.hpaMemory, current, views, now);
    this.hpaMemory = decision.memory;
    this.ctx.timeline.event('hpa', SOURCE, { current, desired: decision.desired, cpuPercent: decision.utilization });
    if (decision.desired !== current) {
      this.ctx.log(`local: hpa scales ${current} -> ${decision.desired} (cpu ${decision.utilization ?? '?'}%)`);
      this.desired = decision.desired;
      this.emitReplicas();
      void this.enqueue(() => this.reconcile()).catch((error: unknown) => this.ctx.log(`local: scaling failed: ${String(error)}`));
    }
  }

  /** Exposed only when the database runs (optional abilities are discovered by presence). */
  databaseActions(): Pick<Cluster, 'failover' | 'missingOrders'> {
    const db = this.database;
    if (!db) return {};
    return { failover: () => db.failover(), missingOrders: (ids) => db.missingOrders(ids) };
  }
}

/** What the local target runs, as each program reports itself. */
async function localVersions(withDatabase: boolean): Promise<Record<string, string>> {
  const firstLine = async (command: string, args: string[]): Promise<string | null> => {
    const result = await execa(command, args, { reject: false, timeout: 10_000 });
    return result.exitCode === 0 ? (result.stdout || result.stderr).split('\n')[0]?.trim() ?? null : null;
  };
  const versions: Record<string, string> = { target: 'local processes (Kubernetes semantics emulated)', node: process.version };
  const haproxy = await firstLine(HAPROXY_BIN, ['-v']);
  if (haproxy) versions.haproxy = haproxy;
  if (withDatabase) {
    const postgres = await firstLine(join(PG_BIN_DIR, 'postgres'), ['--version']);
    if (postgres) versions.postgresql = postgres;
    const patroni = await firstLine(PATRONI_BIN, ['--version']);
    if (patroni) versions.patroni = patroni;
  }
  return versions;
}

/**
 * The local adapter. `failover` and `missingOrders` exist only when the database is enabled (settings
 * `database`, default true): they are bound after `up()` resolves.
 */
export const createLocalCluster: ClusterFactory = (ctx, options) => {
  const cluster = new LocalCluster(ctx, options);
  const { database: withDatabase, prometheus: withPrometheus } = readSettings(options.settings);
  const facade: Cluster & { podNames(): string[] } = {
    name: cluster.name,
    up: () => cluster.up(),
    down: () => cluster.down(),
    endpoint: () => cluster.endpoint(),
    rollout: (version) => cluster.rollout(version),
    killPod: (pod) => cluster.killPod(pod),
    scale: (replicas) => cluster.scale(replicas),
    sendTelemetryTo: (env) => cluster.sendTelemetryTo(env),
    podLogsDir: () => cluster.podLogsDir(),
    reap: (runDir) => cluster.reap(runDir),
    versions: () => localVersions(withDatabase),
    podNames: () => cluster.podNames(),
  };
  if (withPrometheus) facade.serverLatency = (fromMs, toMs) => cluster.serverLatency(fromMs, toMs);
  if (withDatabase) {
    facade.failover = async () => {
      const action = cluster.databaseActions().failover;
      if (!action) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the database is not up');
      await action();
    };
    facade.missingOrders = async (ids) => {
      const action = cluster.databaseActions().missingOrders;
      if (!action) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the database is not up');
      return await action(ids);
    };
  }
  return facade;
};

export { queryServerP95 } from './prometheus.ts';

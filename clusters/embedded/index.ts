// The embedded adapter: a real single-node Kubernetes cluster on this machine (cluster.ts), the reference
// service deployed on it from its kustomize overlay, and its PostgreSQL run by CloudNativePG in the cluster,
// the same `Cluster` as on kind and staging (cnpg.ts). Observation and actions (the failover included) go
// through the kube adapter, exactly as on staging; this adapter only makes the cluster come and go. One embedded cluster per machine: its ports,
// bridge and containerd socket are fixed, so the state folder records which run owns it, and a run killed
// mid-way is torn down by the next `up` or by `slo down <run>`.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import { KubeCluster, loadKubeConfig, parseKubeSettings } from '../kube/index.ts';
import { missingOrders } from '../kube/orders.ts';
import { processAlive } from '../process-alive.ts';
import type { Cluster, ClusterContext, ClusterFactory, ClusterOptions, Endpoint, RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../types.ts';
import { importRunnerImage } from './runner-image.ts';
import { KUBERNETES_VERSION } from './binaries.ts';
import { ensureKubernetesBinaries, kubernetesBinDir } from './build.ts';
import { clusterSteps } from './cluster.ts';
import { CNPG_CLUSTER, CNPG_NAMESPACE, cnpgStep } from './cnpg.ts';
import { kubectl } from './kubectl.ts';
import { layoutFor, pickNodeIp, type Layout } from './layout.ts';
import { collectPodLogs } from './pod-logs.ts';
import { preflight } from './preflight.ts';
import { APP_CONTAINER, APP_DEPLOYMENT, APP_NAMESPACE, APP_URL, referenceAppStep, tagImage, type Workload } from './reference-app.ts';
import { runSteps, teardown, type Step } from './steps.ts';

export const STATE_DIR = '/var/lib/slo-embedded';
const OWNER_FILE = 'owner.json';

interface Owner { pid: number; runDir: string }

function readOwner(stateDir: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function nodeIp(): string {
  const ip = pickNodeIp(networkInterfaces());
  if (!ip) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the embedded cluster needs a non-loopback IPv4 address on this machine for its node');
  return ip;
}

/** The cluster's own steps plus the workload (the database's operator, the service; their teardown is the cluster's). */
function steps(layout: Layout, options: ClusterOptions, workload: readonly Step[]): Step[] {
  const timing = {
    ...(options.autoscalerSyncS ? { hpaSyncS: options.autoscalerSyncS } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  };
  return clusterSteps(layout, timing, workload);
}

/** How the kube adapter fails the CloudNativePG Cluster over (clusters/kube/disruptions.ts). */
const FAILOVER_MODES = ['promote', 'delete-primary'];
/** The base's Cluster has 3; the local volumes made for it hold up to this many. */
const MAX_DATABASE_INSTANCES = 3;

interface DatabaseSettings {
  /** How the kube adapter fails the Cluster over. */
  failoverMode: string;
  /** PostgreSQL instances when not the base's 3. */
  instances: number | undefined;
}

/**
 * The database's settings, checked before anything starts. CloudNativePG is the only way the embedded cluster
 * runs PostgreSQL (`database` may still say `cnpg`; Patroni on the host is gone); `failoverMode` picks the
 * kube adapter's failover; `databaseInstances=N` (1-3) changes the base's 3 instances: 1 brings the database
 * up ~35 s sooner (no standby to clone) for runs without a failover.
 */
function databaseSettings(settings: ClusterOptions['settings']): DatabaseSettings {
  const database = settings?.database;
  if (database !== undefined && database !== 'cnpg') {
    throw errors.SLO_ERR_CLI_USAGE(`--set database=${String(database)}: the embedded cluster runs PostgreSQL with CloudNativePG only`,
      'drop --set database (Patroni on the host was removed; the Cluster is the same as on kind and staging)');
  }
  const failoverMode = String(settings?.failoverMode ?? 'promote');
  if (!FAILOVER_MODES.includes(failoverMode)) throw errors.SLO_ERR_CLI_USAGE(`--set failoverMode=${failoverMode}: must be one of ${FAILOVER_MODES.join(', ')}`);
  const raw = settings?.databaseInstances;
  const instances = raw === undefined ? undefined : Number(raw);
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 1 || instances > MAX_DATABASE_INSTANCES)) {
    throw errors.SLO_ERR_CLI_USAGE(`--set databaseInstances=${String(raw)}: must be a whole number from 1 to ${MAX_DATABASE_INSTANCES}`, 'e.g. --set databaseInstances=1 for a run without a failover step');
  }
  return { failoverMode, instances };
}

/**
 * Undoes whatever a cluster in `stateDir` left (processes, mounts, bridge, iptables, sysctls), from its
 * files alone, keeps its logs in the owning run folder, and removes the state folder.
 */
async function tearDownState(stateDir: string, log: (line: string) => void): Promise<Owner | undefined> {
  if (!existsSync(stateDir)) return undefined;
  const owner = readOwner(stateDir);
  const layout = layoutFor(stateDir, kubernetesBinDir(), pickNodeIp(networkInterfaces()) ?? '127.0.0.1');
  const ctx = { log, signal: new AbortController().signal };
  let failure: unknown;
  try {
    await teardown(clusterSteps(layout), ctx);
  } catch (error) {
    failure = error;
  }
  if (owner && existsSync(owner.runDir)) {
    for (const dir of ['logs', 'pod-logs']) {
      if (existsSync(join(stateDir, dir))) cpSync(join(stateDir, dir), join(owner.runDir, 'cluster', dir), { recursive: true });
    }
  }
  if (failure) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`the embedded cluster's teardown failed: ${(failure as Error).message}`, `see ${layout.logs}`);
  rmSync(stateDir, { recursive: true, force: true });
  return owner;
}

export class EmbeddedCluster implements Cluster {
  readonly name = 'embedded';
  private readonly stateDir: string;
  private readonly preStopSleepS: number | undefined;
  private kube: KubeCluster | undefined;
  private layout: Layout | undefined;
  private downPromise: Promise<void> | undefined;
  private telemetryEnv: Record<string, string> = {};
  /** The node's address: pods reach the harness (its OTLP receiver) there. */
  readonly telemetryHost: string | undefined = pickNodeIp(networkInterfaces());
  /** The image the Deployment runs now (a rollout tags it with the new version). */
  private image: string | undefined;
  private readonly database: DatabaseSettings;
  /** CloudNativePG's version and the operand image once installed (provenance). */
  private cnpgVersion: string | undefined;

  constructor(private readonly ctx: ClusterContext, private readonly options: ClusterOptions) {
    this.stateDir = String(options.settings?.stateDir ?? STATE_DIR);
    this.database = databaseSettings(options.settings);
    const preStop = options.settings?.preStopSleepS;
    if (preStop !== undefined) {
      if (!/^\d+$/.test(String(preStop))) throw errors.SLO_ERR_CLI_USAGE(`--set preStopSleepS=${String(preStop)}: must be whole seconds, 0 or more`, 'e.g. --set preStopSleepS=0 to deploy without the preStop hook');
      this.preStopSleepS = Number(preStop);
    }
    const image = options.settings?.image;
    if (image !== undefined) {
      if (options.app) throw errors.SLO_ERR_CLI_USAGE('--app and --set image= both name the service to run', 'pass one of them');
      if (typeof image !== 'string' || !existsSync(image)) {
        throw errors.SLO_ERR_CLI_USAGE(`--set image=${String(image)}: no such image tarball`, 'pass an OCI or docker-archive tarball, e.g. from `docker save -o app.tar myapp:1`');
      }
    }
  }

  private delegate(): KubeCluster {
    if (!this.kube) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the embedded cluster is not up');
    return this.kube;
  }

  endpoint(): Endpoint {
    return { baseUrl: APP_URL };
  }

  /**
   * Root, before anything is written (exit 3, one line). The Debian packages are the setup's to install
   * (as root it can); `up` checks them again with the ports (preflight.ts).
   */
  async checkEnvironment(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw errors.SLO_ERR_ENV_MISSING_TOOL('the embedded cluster must run as root (containerd, the kubelet and iptables need it)',
        'run as root, or use --cluster kind (Docker) or --cluster kube (an existing cluster)');
    }
  }

  async up(): Promise<Endpoint> {
    await this.checkEnvironment();
    const { binDir, paths } = await ensureKubernetesBinaries({ log: this.ctx.log, signal: this.ctx.signal });
    await this.takeOver();
    const ip = nodeIp();
    const layout = layoutFor(this.stateDir, binDir, ip);
    this.layout = layout;
    await preflight(layout);
    mkdirSync(this.stateDir, { recursive: true });
    writeFileSync(join(this.stateDir, OWNER_FILE), JSON.stringify({ pid: process.pid, runDir: resolve(this.ctx.runDir) } satisfies Owner));
    try {
      // The database comes up in the cluster before the service, which then finds the operator's Secret.
      const database = cnpgStep(layout, {
        managerBinary: paths['cnpg-manager'] ?? join(binDir, 'cnpg-manager'),
        ...(this.database.instances !== undefined ? { instances: this.database.instances } : {}),
        log: this.ctx.log,
        onInstalled: (version, image) => { this.cnpgVersion = `${version}, PostgreSQL image ${image}`; },
      });
      const app = referenceAppStep(layout, {
        workload: this.workload(),
        version: this.options.version ?? 'v1',
        env: { ...this.options.env, ...this.telemetryEnv },
        ...(this.options.replicas ? { replicas: this.options.replicas.initial } : {}),
        ...(this.options.timeScale !== undefined ? { timeScale: this.options.timeScale } : {}),
        ...(this.preStopSleepS !== undefined ? { preStopSleepS: this.preStopSleepS } : {}),
        log: this.ctx.log,
      }, (image) => { this.image = image; });
      await runSteps(steps(layout, this.options, [database, app]), { log: this.ctx.log, signal: this.ctx.signal });
      const settings = parseKubeSettings({
        kubeconfig: layout.adminKubeconfig, namespace: APP_NAMESPACE, deployment: APP_DEPLOYMENT, container: APP_CONTAINER, serviceUrl: APP_URL,
        // The kube adapter observes the Cluster's roles (db.role) and fails it over, as on staging.
        cnpgCluster: CNPG_CLUSTER, failoverMode: this.database.failoverMode,
      });
      this.kube = new KubeCluster(this.ctx, settings, loadKubeConfig(settings));
      await this.kube.up();
      return this.endpoint();
    } catch (error) {
      await this.down();
      throw error;
    }
  }

  /** `--app` runs a command on this machine's programs; `--set image=<tarball>` a user's image. */
  private workload(): Workload {
    if (this.options.app) {
      const cwd = process.cwd();
      const { uid, gid } = statSync(cwd);
      return { kind: 'command', command: this.options.app, cwd, uid, gid };
    }
    const archive = this.options.settings?.image;
    if (typeof archive === 'string' && archive !== '') return { kind: 'image', archive: resolve(archive) };
    return { kind: 'reference' };
  }

  /** A cluster left by a killed run is torn down; one owned by a live process is refused. */
  private async takeOver(): Promise<void> {
    const owner = readOwner(this.stateDir);
    if (owner && owner.pid !== process.pid && processAlive(owner.pid)) {
      throw errors.SLO_ERR_ENV_PROCESS_FAILED(`another embedded cluster is up on this machine (run ${owner.runDir}, pid ${owner.pid})`,
        `wait for it, or stop it: slo down ${owner.runDir}`);
    }
    if (!existsSync(this.stateDir)) return;
    this.ctx.log(`embedded: tearing down a cluster left by ${owner?.runDir ?? 'an earlier run'}`);
    await tearDownState(this.stateDir, this.ctx.log);
  }

  /** The pods send their traces to the harness's receiver on the node's address (telemetryHost). */
  sendTelemetryTo(env: Record<string, string>): void {
    this.telemetryEnv = { ...env };
  }

  podLogsDir(): string {
    return join(this.ctx.runDir, 'cluster', 'pods');
  }

  down(): Promise<void> {
    this.downPromise ??= (async () => {
      await this.kube?.down();
      this.kube = undefined;
      // Before the node goes: its teardown removes the kubelet's log files.
      if (this.layout) collectPodLogs(this.layout.podLogs, APP_NAMESPACE, this.podLogsDir());
      // The operator's log says what it waited for in a failover (the instances' logs are in APP_NAMESPACE).
      if (this.layout) collectPodLogs(this.layout.podLogs, CNPG_NAMESPACE, join(this.ctx.runDir, 'cluster', 'cnpg-operator'));
      if (this.layout) await tearDownState(this.stateDir, this.ctx.log);
    })();
    return this.downPromise;
  }

  /** A failover needs a standby to promote. */
  refuseActions(actions: readonly ('rollout' | 'kill' | 'failover' | 'scale')[]): void {
    if (actions.includes('failover') && this.database.instances === 1) {
      throw errors.SLO_ERR_CLI_USAGE('--set databaseInstances=1: the suite has a failover step, and a single instance has no standby to fail over to',
        'drop --set databaseInstances (the base\'s 3 instances), or the failover step with --steps');
    }
  }

  /** The kube adapter checks the namespace allows what the suite will do (a failover included), as on staging. */
  preflight(actions: readonly ('rollout' | 'kill' | 'failover' | 'scale')[]): Promise<void> {
    return this.delegate().preflight(actions);
  }

  /** Tags the image with the new version (nothing can pull it), then rolls the Deployment to it. */
  async rollout(version: string): Promise<void> {
    if (!this.image) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the embedded cluster is not up');
    await tagImage(this.requireLayout(), this.image, version);
    await this.delegate().rollout(version);
  }

  /** Distributed load: the runners' image built here and imported; the Job itself is the kube adapter's. */
  async prepareLoadRunners(placement: RunnerPlacement): Promise<void> {
    this.delegate().useRunnerImage(await importRunnerImage(this.requireLayout(), this.ctx.log));
    await this.delegate().prepareLoadRunners(placement);
  }

  runnerBaseUrl(): string {
    return `http://${APP_DEPLOYMENT}.${APP_NAMESPACE}.svc.cluster.local`;
  }

  runLoadInCluster(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob> {
    return this.delegate().runLoadInCluster(request, events);
  }

  killPod(pod?: string): Promise<string> {
    return this.delegate().killPod(pod);
  }

  scale(replicas: number): Promise<void> {
    return this.delegate().scale(replicas);
  }

  failover(): Promise<void> {
    const failover = this.delegate().failover;
    if (!failover) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the kube adapter has no CloudNativePG failover');
    return failover();
  }

  /** The durability audit, in the database the service wrote to. */
  async missingOrders(ids: readonly string[]): Promise<string[]> {
    return missingOrders(await this.cnpgUrlFromHost(), ids);
  }

  /**
   * The operator's own `orders-db-app` URI (the app role, the primary through `orders-db-rw`), with the
   * Service's cluster address in place of its DNS name: kube-proxy's rules reach it from this machine too.
   */
  private async cnpgUrlFromHost(): Promise<string> {
    const layout = this.requireLayout();
    const secret = await kubectl(layout, ['-n', APP_NAMESPACE, 'get', 'secret', `${CNPG_CLUSTER}-app`, '-o', 'jsonpath={.data.uri}']);
    const service = await kubectl(layout, ['-n', APP_NAMESPACE, 'get', 'service', `${CNPG_CLUSTER}-rw`, '-o', 'jsonpath={.spec.clusterIP}']);
    if (secret.exitCode !== 0 || service.exitCode !== 0 || !secret.stdout || !service.stdout) {
      throw errors.SLO_ERR_KUBE_API(`cannot read the CloudNativePG Secret ${CNPG_CLUSTER}-app or Service ${CNPG_CLUSTER}-rw: ${(secret.all ?? '').trim()} ${(service.all ?? '').trim()}`.trim());
    }
    const url = new URL(Buffer.from(secret.stdout, 'base64').toString('utf8'));
    url.hostname = service.stdout.trim();
    return url.toString();
  }

  /** The run folder's cluster (its database with it), when that run still owns it. */
  async reap(runDir: string): Promise<string> {
    const owner = readOwner(this.stateDir);
    if (owner && resolve(owner.runDir) === resolve(runDir) && !processAlive(owner.pid)) {
      await tearDownState(this.stateDir, this.ctx.log);
      return `reaped the embedded cluster left in ${runDir}`;
    }
    return `no embedded cluster of ${runDir} was left to reap`;
  }

  async versions(): Promise<Record<string, string>> {
    const versions: Record<string, string> = { target: `embedded Kubernetes ${KUBERNETES_VERSION} (single node)`, node: process.version };
    const containerd = await execa('containerd', ['--version'], { reject: false });
    if (containerd.exitCode === 0) versions.containerd = containerd.stdout.trim();
    if (this.cnpgVersion) versions.database = `CloudNativePG ${this.cnpgVersion}`;
    return versions;
  }

  private requireLayout(): Layout {
    if (!this.layout) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the embedded cluster is not up');
    return this.layout;
  }
}

export const createEmbeddedCluster: ClusterFactory = (ctx, options) => new EmbeddedCluster(ctx, options);

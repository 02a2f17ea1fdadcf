// The kind adapter: creates (or reuses) a local kind cluster, builds and loads the reference image,
// installs metrics-server and the CloudNativePG operator, applies the kind overlay and waits for it. Then
// it hands observation and actions to the kube adapter on context `kind-<name>`.
//
// Needs docker, kind and kubectl, and internet access for the pinned operator manifests: it has not been
// run on the machine this project is developed on (no Docker daemon, no internet there).
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import which from 'which';
import type { Cluster, ClusterContext, ClusterFactory, ClusterOptions, Endpoint, RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../types.ts';
import { KubeCluster, loadKubeConfig, parseKubeSettings } from '../kube/index.ts';
import {
  APP_DEPLOYMENT, APP_IMAGE, APP_IMAGE_REPOSITORY, CNPG_CLUSTER, KIND_NAMESPACE, NODE_PORT_URL, applyOverlay, commandLine,
  dockerBuild, dockerTag, installCnpgOperator, installMetricsServer, kindCreateCluster, kindDeleteCluster, kindListClusters,
  kindLoadImage, kubeContext, waitForApp, type Command,
} from './commands.ts';

export * from './commands.ts';

const INSTALL_HINTS: Record<string, string> = {
  docker: 'install Docker Engine (https://docs.docker.com/engine/install/) and start its daemon',
  kind: 'install kind: go install sigs.k8s.io/kind@v0.29.0 (or see https://kind.sigs.k8s.io/docs/user/quick-start/)',
  kubectl: 'install kubectl (https://kubernetes.io/docs/tasks/tools/)',
};

export interface KindSettings { name: string; keep: boolean; skipBuild: boolean }

export function parseKindSettings(raw: ClusterOptions['settings']): KindSettings {
  return {
    name: raw?.name === undefined ? 'slo' : String(raw.name),
    keep: raw?.keep === true || raw?.keep === 'true',
    skipBuild: raw?.skipBuild === true || raw?.skipBuild === 'true',
  };
}

const onPath = (name: string, path: string | undefined): boolean => which.sync(name, { path: path ?? '', nothrow: true }) !== null;

/** Fails with one line per missing program (exit 3) before anything is created. */
export async function checkTools(env: NodeJS.ProcessEnv = process.env, tools = ['docker', 'kind', 'kubectl']): Promise<void> {
  const missing = tools.filter((t) => !onPath(t, env.PATH));
  if (missing.length > 0) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL(`the kind cluster needs ${missing.join(', ')} on PATH`, missing.map((t) => INSTALL_HINTS[t] ?? `install ${t}`).join('; '));
  }
  // docker on PATH is not enough: the daemon must answer.
  if (tools.includes('docker')) {
    const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { env, reject: false, all: true, timeout: 20_000 });
    if (info.exitCode !== 0) {
      throw errors.SLO_ERR_ENV_MISSING_TOOL(`docker is installed but its daemon does not answer: ${(info.all ?? '').trim().split('\n')[0] ?? ''}`, INSTALL_HINTS.docker);
    }
  }
}

export class KindCluster implements Cluster {
  readonly name = 'kind';
  readonly settings: KindSettings;
  private kube: KubeCluster | undefined;
  private created = false;
  declare failover?: () => Promise<void>;

  constructor(private readonly ctx: ClusterContext, private readonly options: ClusterOptions, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.settings = parseKindSettings(options.settings);
    this.failover = () => this.delegate().failover!();
  }

  private async run(command: Command): Promise<string> {
    this.ctx.log(`kind: ${commandLine(command)}`);
    const result = await execa(command.file, command.args, {
      env: this.env, reject: false, all: true, cancelSignal: this.ctx.signal, timeout: 15 * 60_000,
      ...(command.input === undefined ? {} : { input: command.input }),
    });
    if (result.exitCode !== 0) {
      const tail = (result.all ?? '').trim().split('\n').slice(-3).join(' | ');
      throw errors.SLO_ERR_ENV_PROCESS_FAILED(`\`${commandLine(command)}\` exited ${result.exitCode ?? 'on a signal'}: ${tail}`);
    }
    return result.stdout ?? '';
  }

  private delegate(): KubeCluster {
    if (!this.kube) throw errors.SLO_ERR_ENV_PROCESS_FAILED('the kind cluster is not up');
    return this.kube;
  }

  endpoint(): Endpoint {
    return { baseUrl: NODE_PORT_URL };
  }

  checkEnvironment(): Promise<void> {
    return checkTools(this.env);
  }

  async up(): Promise<Endpoint> {
    await checkTools(this.env);
    const { name } = this.settings;
    const existing = (await this.run(kindListClusters())).split('\n').map((l) => l.trim());
    if (existing.includes(name)) {
      this.ctx.log(`kind: reusing cluster ${name}`);
    } else {
      await this.run(kindCreateCluster(name));
      this.created = true;
    }
    if (!this.settings.skipBuild) await this.run(dockerBuild(APP_IMAGE));
    await this.run(kindLoadImage(name, APP_IMAGE));
    for (const c of installMetricsServer(name)) await this.run(c);
    for (const c of installCnpgOperator(name)) await this.run(c);
    await this.run(applyOverlay(name));
    for (const c of waitForApp(name)) await this.run(c);

    // kind writes its context into the first file of KUBECONFIG, else ~/.kube/config.
    const settings = parseKubeSettings({
      context: kubeContext(name), kubeconfig: this.env.KUBECONFIG?.split(':')[0] ?? '',
      namespace: KIND_NAMESPACE, deployment: APP_DEPLOYMENT, cnpgCluster: CNPG_CLUSTER, serviceUrl: NODE_PORT_URL,
      runnerUrl: `http://${APP_DEPLOYMENT}.${KIND_NAMESPACE}.svc.cluster.local`, runnerImage: String(this.options.settings?.runnerImage ?? ''),
    });
    this.kube = new KubeCluster(this.ctx, settings, loadKubeConfig(settings));
    await this.kube.up();
    return this.endpoint();
  }

  async down(): Promise<void> {
    await this.kube?.down();
    this.kube = undefined;
    if (this.settings.keep) {
      this.ctx.log(`kind: keeping cluster ${this.settings.name} (keep=true)`);
      return;
    }
    if (!this.created && !onPath('kind', this.env.PATH)) return;
    await this.run(kindDeleteCluster(this.settings.name));
  }

  preflight(actions: readonly ('rollout' | 'kill' | 'failover' | 'scale')[]): Promise<void> {
    return this.delegate().preflight(actions);
  }

  /** Loads the image under the new tag (kind nodes cannot pull it), then rolls the deployment to it. */
  async rollout(version: string): Promise<void> {
    const image = `${APP_IMAGE_REPOSITORY}:${version}`;
    if (image !== APP_IMAGE) {
      await this.run(dockerTag(APP_IMAGE, image));
      await this.run(kindLoadImage(this.settings.name, image));
    }
    await this.delegate().rollout(version);
  }

  killPod(pod?: string): Promise<string> {
    return this.delegate().killPod(pod);
  }

  /** Distributed load: the runners' image is the user's (`kind load image-archive`, then --set runnerImage=). */
  prepareLoadRunners(placement: RunnerPlacement): Promise<void> {
    return this.delegate().prepareLoadRunners(placement);
  }

  runnerBaseUrl(): string {
    return this.delegate().runnerBaseUrl();
  }

  runLoadInCluster(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob> {
    return this.delegate().runLoadInCluster(request, events);
  }

  scale(replicas: number): Promise<void> {
    return this.delegate().scale(replicas);
  }
}

export const createKindCluster: ClusterFactory = (ctx: ClusterContext, options: ClusterOptions): Cluster => new KindCluster(ctx, options);

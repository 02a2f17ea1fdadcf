// One replica of the app: a process group on its own loopback port, with a "kubelet" readiness probe on
// /ready. A pod keeps its name and port across restarts (as a container restart keeps its pod), so its load
// balancer entry stays: the cluster takes it out of rotation the moment the container dies, and hands it
// back to HAProxy's health checks once the restarted pod is ready.
import { join } from 'node:path';
import { spawnGroup, type GroupExit, type ProcessGroup } from './processes.ts';

export interface PodSpec {
  name: string;
  version: string;
  port: number;
  runDir: string;
  /** Shell command line (user's app) or argv (reference service). */
  command: string;
  args?: string[];
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
}

/** No shell operators: `exec` in front of it keeps its meaning. */
export function isSimpleCommand(command: string): boolean {
  return !/[;&|`\n()<>]|\$\(/.test(command);
}

export type StopReason = 'scale-down' | 'rollout' | 'killed' | 'exited' | 'teardown';

export class Pod {
  group: ProcessGroup;
  /** When the current incarnation started (epoch ms). */
  startTime = Date.now();
  ready: { status: boolean; lastTransitionTime: number } | null = null;
  /** Set when the cluster decided to remove it: why, for the pod.stop event. */
  stopReason: StopReason | null = null;
  killRequested = false;
  inLoadBalancer = false;
  /** Taken out of rotation because its container died; handed back to health checks once ready again. */
  outOfRotation = false;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Bumped by every start/stop, so a probe still in flight from an older loop does not reschedule. */
  private probeGeneration = 0;

  constructor(readonly spec: PodSpec) {
    this.group = this.spawn();
  }

  get name(): string {
    return this.spec.name;
  }

  get version(): string {
    return this.spec.version;
  }

  get terminating(): boolean {
    return this.stopReason !== null;
  }

  get isReady(): boolean {
    return this.ready?.status === true && !this.terminating;
  }

  /** Starts the process again (kubelet restart): same name, same port, fresh readiness. */
  restart(): void {
    this.startTime = Date.now();
    this.ready = null;
    this.killRequested = false;
    this.group = this.spawn();
  }

  private spawn(): ProcessGroup {
    const { spec } = this;
    return spawnGroup({
      name: spec.name,
      runDir: spec.runDir,
      // A plain command line is exec'd, so the service itself (not a shell) is the pod's main process.
      command: spec.shell && isSimpleCommand(spec.command) ? `exec ${spec.command}` : spec.command,
      ...(spec.args ? { args: spec.args } : {}),
      shell: spec.shell,
      cwd: spec.cwd,
      env: { ...spec.env, PORT: String(spec.port), HOST: '127.0.0.1', APP_VERSION: spec.version, INSTANCE_ID: spec.name },
      logFile: join(spec.runDir, 'logs', `${spec.name}.log`),
    });
  }

  /**
   * Probes /ready every `periodMs` until stopped; `onChange` sees every transition of the Ready condition.
   * A probe is failed by any non-200 answer, a refused connection or a timeout of one period.
   */
  startProbing(periodMs: number, onChange: (pod: Pod) => void): void {
    this.stopProbing();
    const generation = this.probeGeneration;
    const probe = async () => {
      let ok = false;
      try {
        const response = await fetch(`http://127.0.0.1:${this.spec.port}/ready`, { signal: AbortSignal.timeout(periodMs) });
        ok = response.status === 200;
        await response.body?.cancel();
      } catch {
        ok = false;
      }
      if (!this.group.alive()) ok = false;
      if (generation !== this.probeGeneration) return;
      // A pod has no Ready condition until its first success; after that every flip is a transition.
      if (this.ready?.status !== ok && (ok || this.ready !== null)) {
        this.ready = { status: ok, lastTransitionTime: Date.now() };
        onChange(this);
      }
      this.probeTimer = setTimeout(() => void probe(), periodMs);
    };
    this.probeTimer = setTimeout(() => void probe(), 0);
  }

  stopProbing(): void {
    this.probeGeneration++;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  get exited(): Promise<GroupExit> {
    return this.group.exited;
  }
}

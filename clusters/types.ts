// One interface for every target (the embedded cluster, kind, an existing kube context, the process stand-in). Core abilities are in
// `Cluster`; actions are optional abilities, discovered by presence, so an adapter that cannot fail a
// database over simply has no `failover` and the suite reports SLO_ERR_ACTION_UNSUPPORTED before any load.
import type { TimelineSink } from '../contract/timeline.ts';
import type { RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../contract/runners.ts';

export interface Endpoint {
  /** Where the load goes, e.g. http://127.0.0.1:8080 (the load balancer, never one replica). */
  baseUrl: string;
  /** Where the service's Prometheus can be queried, when the target has one. */
  prometheusUrl?: string;
  /** Where OTLP/HTTP traces from the service arrive, when the harness receives them. */
  otlpUrl?: string;
}

export interface ClusterContext {
  /** The run folder: all state, logs and data of this run live under it. */
  runDir: string;
  timeline: TimelineSink;
  /** Aborted on Ctrl-C, SIGTERM or a fatal error: long waits must stop promptly. */
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface ClusterOptions {
  /** Command that starts the service under test (local only); the reference service when absent. */
  app?: string;
  replicas?: { min: number; max: number; initial: number };
  /** Seconds between autoscaler decisions (15 upstream; shorter in compressed runs). */
  autoscalerSyncS?: number;
  /** Version the service starts at. */
  version?: string;
  /** Extra environment for every replica of the service (e.g. OTEL_* so traces reach the harness). */
  env?: Record<string, string>;
  /** Free-form adapter settings (kube context, namespace, kind cluster name, keep...). */
  settings?: Record<string, string | number | boolean>;
  /**
   * The profile's time compression (0.1 = ten times shorter). An adapter that runs its own controllers
   * compresses their clocks (e.g. HPA scale-down stabilization) the same way; the user's settings win.
   */
  timeScale?: number;
}

export interface Cluster {
  readonly name: string;
  up(): Promise<Endpoint>;
  /** Idempotent; safe to call after a failed or partial `up`. */
  down(): Promise<void>;
  endpoint(): Endpoint;
  /**
   * False when the target cannot see replicas (a bare URL): a step that expects scaling would end in "no
   * data", so it is refused before any load. Absent means the target observes its autoscaler.
   */
  readonly observesReplicas?: boolean;
  /**
   * Before anything is started or written: throws (exit 2) when the target's settings cannot carry out an
   * action the suite asks for (e.g. a database failover with a single database instance).
   */
  refuseActions?(actions: readonly ('rollout' | 'kill' | 'failover' | 'scale')[]): void;
  /** Before anything is started or written: throws when a program the target needs is missing (exit 3). */
  checkEnvironment?(): Promise<void>;
  /** Before any load: throws when the suite's actions cannot or may not run here (e.g. no disruption opt-in). */
  preflight?(actions: readonly ('rollout' | 'kill' | 'failover' | 'scale')[]): Promise<void>;
  rollout?(version: string): Promise<void>;
  killPod?(pod?: string): Promise<string>;
  failover?(): Promise<void>;
  scale?(replicas: number): Promise<void>;
  /** Which of these order ids does the database no longer have? (durability after a failover). */
  missingOrders?(ids: readonly string[]): Promise<string[]>;
  /** The service's own p95 over [fromMs, toMs] (e.g. from its Prometheus), shown beside the client's. */
  serverLatency?(fromMs: number, toMs: number): Promise<{ p95Ms: number | null; requests: number }>;
  /**
   * Before up(): points the service's telemetry (OTLP traces) at the harness's receiver, for the
   * observability checks. Adapters whose pods cannot reach the harness leave it out.
   */
  sendTelemetryTo?(env: Record<string, string>): void;
  /**
   * The address the harness's OTLP receiver must listen on for the service to reach it (default
   * 127.0.0.1): a pod's loopback is its own, so a cluster on this machine names its node's address.
   */
  readonly telemetryHost?: string;
  /** Where each pod's log file lands in the run folder (`<dir>/<pod>.log`), for the structured-log check. */
  podLogsDir?(): string;
  /** Versions of the target's parts (e.g. Kubernetes, PostgreSQL), for the reports' provenance. */
  versions?(): Promise<Record<string, string>>;
  /**
   * Before any load of a distributed run: the runners' image is where the pods can get it, and the runners'
   * namespace opted in (the disruption label). Throws otherwise.
   */
  prepareLoadRunners?(placement: RunnerPlacement): Promise<void>;
  /** The service's URL as pods inside the cluster reach it. */
  runnerBaseUrl?(): string;
  /** Runs the engine as an Indexed Job and streams each runner's output into `events`. */
  runLoadInCluster?(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob>;
  /** Tears down what a killed harness left behind for the run folder `runDir`; returns what it did, one line. */
  reap?(runDir: string): Promise<string>;
}

// Distributed load (issue 14): the embedded engine as pods of an Indexed Job; the shapes are the contract's.
export type { RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement };

export type ClusterFactory = (ctx: ClusterContext, options: ClusterOptions) => Cluster;

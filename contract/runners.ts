// The seam between distributed load (load/runners/) and a cluster that runs the embedded engine as pods of an
// Indexed Job (clusters/kube/runners.ts): the shapes both sides speak, stated once here because neither
// side may import the other.

/** Where the runner pods go, from the spec's `load.runnerPods`. */
export interface RunnerPlacement {
  namespace?: string;
  nodeSelector?: Record<string, string>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface RunnerJobRequest {
  /** The Job's name, unique per step (a DNS label). */
  name: string;
  /** Pods (Job completions and parallelism); each one's index is its JOB_COMPLETION_INDEX. */
  runners: number;
  /** The engine's plan (load/embedded/PROTOCOL.md), the same for every runner: rates already split. */
  plan: string;
  placement: RunnerPlacement;
  /** Seconds after which the cluster ends the Job whatever happens (activeDeadlineSeconds): nothing outlives a lost harness for long. */
  deadlineS: number;
}

/** What the cluster reports of each runner, by its completion index. */
export interface RunnerEvents {
  /** One line of the runner's output (stdout and stderr interleaved, as the pod log holds them). */
  line(index: number, line: string): void;
  /** The runner's output ended: its container exited (code), or it is gone (reason: deleted, failed, evicted...). */
  ended(index: number, outcome: { exitCode: number | null; reason?: string }): void;
  /** What the cluster did (Job created, pod scheduled...), for the step's load log. */
  log(line: string): void;
}

export interface RunnerJob {
  /** Stops every runner: deletes the Job and waits until its pods are gone. Idempotent. */
  stop(): Promise<void>;
}

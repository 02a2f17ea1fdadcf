// What distributed load (this folder) needs of a cluster that can run the embedded engine as pods. The shapes
// are the contract's (contract/runners.ts); the cluster ability (clusters/types.ts, `runLoadInCluster`) is
// the same, and the harness hands one to the other.
import type { RunnerEvents, RunnerJob, RunnerJobRequest } from '../../contract/runners.ts';

export type { RunnerEvents, RunnerJob, RunnerJobRequest, RunnerPlacement } from '../../contract/runners.ts';

export interface RunnerLauncher {
  /** The service's URL as the runner pods reach it (inside the cluster). */
  runnerBaseUrl(): string;
  /** Creates the Job and streams its pods' output into `events` until each ends or `stop()`. */
  runLoadInCluster(request: RunnerJobRequest, events: RunnerEvents): Promise<RunnerJob>;
}

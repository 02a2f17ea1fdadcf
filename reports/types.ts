// What every report renderer takes: plain data, so reports can be written for a live run, for a stored run
// judged again later, or for a synthetic run in a benchmark, without the verifiers or the spec at hand.
import type { TimelineRecord } from '../contract/timeline.ts';
import type { Verdict } from '../verifiers/types.ts';

export type RunStatus = 'completed' | 'aborted' | 'invalid';
export type JudgementStatus = 'pass' | 'fail' | 'invalid';

export interface RunInfo {
  id: string;
  cluster: string;
  profile: string;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms. */
  endedAt: number;
  status: RunStatus;
  reason?: string;
  harnessVersion: string;
  steps: string[];
}

export interface Regression {
  /** The verdict id that got worse. */
  id: string;
  measured: number;
  baseline: number;
  changePercent: number;
}

export interface ReportInput {
  run: RunInfo;
  judgement: { status: JudgementStatus; verdicts: Verdict[] };
  /** The timeline, for charts and the load summary. */
  records: TimelineRecord[];
  baseline?: { runId: string; regressions: Regression[] };
}

/** The one word a human reads first. An aborted run says so even when what was measured passed. */
export type Headline = 'PASS' | 'FAIL' | 'INVALID' | 'ABORTED';

export function headlineOf(input: Pick<ReportInput, 'run' | 'judgement'>): Headline {
  if (input.run.status === 'aborted') return 'ABORTED';
  if (input.run.status === 'invalid' || input.judgement.status === 'invalid') return 'INVALID';
  return input.judgement.status === 'fail' ? 'FAIL' : 'PASS';
}

// What every report renderer takes: plain data, so reports can be written for a live run, for a stored run
// judged again later, or for a synthetic run in a benchmark, without the verifiers or the spec at hand.
import type { ExitCode } from '../contract/errors.ts';
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

export interface BaselineInput {
  runId: string;
  /** Verdicts worse than the baseline by more than the tolerance (harness/baseline.ts). */
  regressions: Regression[];
  /** The baseline's measured value of every verdict it had, for the change column; absent: regressions only. */
  verdicts?: Array<{ id: string; measured: number | null }>;
}

export interface ReportInput {
  run: RunInfo;
  judgement: { status: JudgementStatus; verdicts: Verdict[] };
  /** The timeline, for charts, the load summary, the fault ledger and provenance (run.info). */
  records: TimelineRecord[];
  baseline?: BaselineInput;
}

/** The one word a human reads first. An aborted run says so even when what was measured passed. */
export type Headline = 'PASS' | 'FAIL' | 'INVALID' | 'ABORTED';

export function headlineOf(input: Pick<ReportInput, 'run' | 'judgement'>): Headline {
  if (input.run.status === 'aborted') return 'ABORTED';
  if (input.run.status === 'invalid' || input.judgement.status === 'invalid') return 'INVALID';
  return input.judgement.status === 'fail' ? 'FAIL' : 'PASS';
}

/** The exit code `slo run` and `slo verify` end with for each headline (docs/ERRORS.md). */
export const EXIT_CODE_OF: Readonly<Record<Headline, ExitCode>> = { PASS: 0, FAIL: 1, INVALID: 3, ABORTED: 3 };

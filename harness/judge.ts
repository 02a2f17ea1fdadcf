// Judging a run: its timeline and a spec in, verdicts and the four reports out. Shared by `slo run` and
// `slo verify`, and all that `slo verify` loads: no cluster adapter and no load engine.
import { join } from 'node:path';
import type { ExitCode } from '../contract/errors.ts';
import type { SloSpec } from '../contract/spec.ts';
import { TIMELINE_FILE } from '../contract/timeline.ts';
import { readReportJson, verdictsOf, writeReports, type BaselineInput } from '../reports/index.ts';
import { verify, type Judgement } from '../verifiers/index.ts';
import { compareWithBaseline } from './baseline.ts';
import type { RunMeta } from './run-dir.ts';
import { readTimeline } from './timeline-file.ts';

export function exitCodeFor(status: RunMeta['status'], judgement: Judgement): ExitCode {
  if (status === 'aborted' || status === 'invalid' || judgement.status === 'invalid') return 3;
  return judgement.status === 'pass' ? 0 : 1;
}

/**
 * The baseline as the reports show it: the regressions `--baseline` flags, and the baseline's measured value
 * of every objective, so each SLO row can say how it moved even when it stayed within the tolerance.
 */
function baselineInput(judgement: Judgement, baselineDir: string): BaselineInput {
  const { runId, regressions } = compareWithBaseline(judgement, baselineDir);
  // compareWithBaseline has read and validated this file already; it returns only the regressions.
  const verdicts = verdictsOf(readReportJson(join(baselineDir, 'report.json'))).map((v) => ({ id: v.id, measured: v.measured }));
  return { runId, regressions, verdicts };
}

export async function judgeAndReport(runDir: string, meta: RunMeta, spec: SloSpec, baselineDir?: string): Promise<{ judgement: Judgement; files: string[]; exitCode: ExitCode }> {
  const records = readTimeline(join(runDir, TIMELINE_FILE));
  const judgement = verify(records, spec);
  const baseline = baselineDir ? baselineInput(judgement, baselineDir) : undefined;
  const status = meta.status === 'running' ? 'aborted' : meta.status;
  const { files } = writeReports(runDir, {
    run: {
      id: meta.id, cluster: meta.cluster, profile: meta.profile, startedAt: meta.startedAt, endedAt: meta.endedAt ?? Date.now(),
      status, ...(meta.reason ? { reason: meta.reason } : {}),
      harnessVersion: meta.harnessVersion, steps: meta.steps,
    },
    judgement,
    records,
    ...(baseline ? { baseline } : {}),
  });
  return { judgement, files, exitCode: exitCodeFor(status, judgement) };
}

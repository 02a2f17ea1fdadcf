// The end of a command's output: a few lines for people, or exactly one JSON line under --quiet / CI so a
// pipeline can read the outcome without parsing prose.
import type { Verdict } from '../../verifiers/types.ts';
import type { Judgement } from '../../verifiers/index.ts';

export interface OutcomeView {
  runDir: string;
  status: string;
  reason?: string;
  judgement: Judgement;
  exitCode: number;
  reports: string[];
}

function verdictLine(verdict: Verdict): string {
  const measured = verdict.measured === null ? 'no data' : `${Math.round(verdict.measured * 1000) / 1000} ${verdict.threshold.unit}`;
  const threshold = `${verdict.threshold.op} ${verdict.threshold.value} ${verdict.threshold.unit}`;
  return `  ${verdict.status.toUpperCase().padEnd(7)} ${verdict.slo}: measured ${measured}, threshold ${threshold}${verdict.reason ? ` (${verdict.reason})` : ''}`;
}

export function headline(outcome: OutcomeView): string {
  if (outcome.status === 'aborted') return 'ABORTED';
  if (outcome.status === 'invalid' || outcome.judgement.status === 'invalid') return 'INVALID';
  return outcome.judgement.status === 'pass' ? 'PASS' : 'FAIL';
}

export function formatOutcome(outcome: OutcomeView, quiet: boolean): string {
  const verdicts = outcome.judgement.verdicts;
  if (quiet) {
    return JSON.stringify({
      result: headline(outcome),
      exitCode: outcome.exitCode,
      runDir: outcome.runDir,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      passed: verdicts.filter((v) => v.status === 'pass').length,
      failed: verdicts.filter((v) => v.status !== 'pass').map((v) => v.id),
      reports: outcome.reports,
    });
  }
  const lines = [
    `${headline(outcome)}: ${verdicts.filter((v) => v.status === 'pass').length}/${verdicts.length} SLOs met${outcome.reason ? ` (${outcome.reason})` : ''}`,
    ...[...verdicts].sort((a, b) => Number(a.status === 'pass') - Number(b.status === 'pass')).map(verdictLine),
    `reports: ${outcome.reports.join(', ')}`,
    `exit code ${outcome.exitCode}`,
  ];
  return lines.join('\n');
}

export function printOutcome(outcome: OutcomeView, quiet: boolean): void {
  process.stdout.write(formatOutcome(outcome, quiet) + '\n');
}

// Benchmark: judge and report a one-hour run at 1000 requests/s (3600 per-second load records with real HDR
// histograms, plus the events of a spike, a pod kill, a failover and a rollout). Budget: verify +
// writeReports under 10 s and the whole process under 300 MB peak RSS. Run: npx tsx bench/verify-report.ts
// (add `--keep <dir>` to keep the reports, e.g. to open the one-hour report.html; `--reports-only` skips
// verify and reports the synthetic verdicts, to see the reports' own time and memory).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../contract/spec.ts';
import { TIMELINE_FILE } from '../contract/timeline.ts';
import { readTimeline } from '../harness/timeline-file.ts';
import { verify } from '../verifiers/index.ts';
import { writeReports } from '../reports/index.ts';
import { syntheticReportInput } from '../testing/synthetic-run.ts';

const BUDGET_MS = 10_000;
const BUDGET_RSS_MB = 300;
const DURATION_S = 3600;
const RPS = 1000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Peak RSS so far: maxRSS never goes down, so reading it after each phase shows which phase set the peak. */
const peakMb = () => process.resourceUsage().maxRSS / 1024;
const peaks: string[] = [];
const mark = (phase: string) => peaks.push(`${phase} ${peakMb().toFixed(0)} MB`);
const keepIndex = process.argv.indexOf('--keep');
const keep = keepIndex > 0 ? process.argv[keepIndex + 1] : undefined;
const dir = mkdtempSync(join(tmpdir(), 'slo-bench-report-'));
try {
  let t = performance.now();
  const input = syntheticReportInput({ durationS: DURATION_S, rps: RPS });
  const generateMs = performance.now() - t;
  mark('generate');
  const requests = input.records.reduce((sum, r) => sum + (r.kind === 'load' ? r.requests : 0), 0);
  // Through the disk like `slo verify <run-dir>`: the timeline is read and validated, then judged.
  writeFileSync(join(dir, TIMELINE_FILE), input.records.map((r) => JSON.stringify(r)).join('\n') + '\n');

  t = performance.now();
  const records = readTimeline(join(dir, TIMELINE_FILE));
  const readMs = performance.now() - t;
  mark('readTimeline');

  t = performance.now();
  const reportsOnly = process.argv.includes('--reports-only');
  const judgement = reportsOnly ? input.judgement : verify(records, defaultSpec());
  const verifyMs = performance.now() - t;
  mark(reportsOnly ? 'verify skipped' : 'verify');

  t = performance.now();
  const { files } = writeReports(keep ?? dir, { ...input, records, judgement });
  const reportMs = performance.now() - t;
  mark('writeReports');

  const peakRssMb = peakMb();
  const totalMs = verifyMs + reportMs;
  const sizes = files.map((f) => `${f.split('/').at(-1)} ${(statSync(f).size / 1024).toFixed(0)} kB`).join(', ');
  const html = readFileSync(files.find((f) => f.endsWith('.html')) ?? '', 'utf8');
  const points = /"bucketS":(\d+),"t":\[([^\]]*)\]/.exec(html);
  console.log(`synthetic run: ${DURATION_S} s at ${RPS}/s, ${records.length} records, ${requests} requests (generated in ${seconds(generateMs)})`);
  console.log(`readTimeline ${seconds(readMs)} | verify ${seconds(verifyMs)} (${judgement.verdicts.length} verdicts, ${judgement.status}) | writeReports ${seconds(reportMs)}`);
  console.log(`verify + writeReports ${seconds(totalMs)} (budget ${seconds(BUDGET_MS)}), peak RSS ${peakRssMb.toFixed(0)} MB (budget ${BUDGET_RSS_MB} MB)`);
  console.log(`peak RSS after each phase: ${peaks.join(', ')}`);
  console.log(`files: ${sizes}; HTML chart points ${points?.[2]?.split(',').length ?? '?'} per series (${points?.[1] ?? '?'} s buckets)`);
  const ok = totalMs < BUDGET_MS && peakRssMb < BUDGET_RSS_MB;
  console.log(ok ? 'PASS' : 'FAIL: over budget');
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

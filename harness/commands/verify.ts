// `slo verify <run-dir>` and `slo report <run-dir>`: judge a stored run from its timeline and a spec (the
// one given with --config, else the spec the run was judged by) and rewrite its reports. No cluster is
// touched, so a run can be re-judged anywhere, long after it ran.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { loadSpec, parseSpec } from '../spec-file.ts';
import { readRunMeta } from '../run-dir.ts';
import { judgeAndReport } from '../judge.ts';
import { isQuiet, type CommonOptions } from './options.ts';
import { printOutcome } from './summary.ts';

export async function verifyCommand(runDirArgument: string, options: CommonOptions): Promise<number> {
  const runDir = resolve(runDirArgument);
  const meta = readRunMeta(runDir);
  if (options.config !== undefined && !existsSync(options.config)) {
    throw errors.SLO_ERR_SPEC_NOT_FOUND(`--config file "${options.config}" does not exist`, 'pass an existing slo.yaml');
  }
  const spec = options.config ? loadSpec(options.config) : meta.specText ? parseSpec(meta.specText, meta.specFile ?? '<stored spec>') : loadSpec();
  if (options.baseline !== undefined && !existsSync(join(options.baseline, 'report.json'))) {
    throw errors.SLO_ERR_CLI_USAGE(`--baseline "${options.baseline}" holds no report.json`, 'pass the folder of an earlier run');
  }
  const { judgement, files, exitCode } = await judgeAndReport(runDir, meta, spec, options.baseline);
  printOutcome({ runDir, status: meta.status, ...(meta.reason ? { reason: meta.reason } : {}), judgement, exitCode, reports: files }, isQuiet(options));
  return exitCode;
}

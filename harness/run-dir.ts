// A run folder holds everything one run produced: run.json (what ran), timeline.jsonl (what happened),
// logs, k6 output and the reports. `slo verify` and `slo report` only need this folder and a spec.
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { errors } from '../contract/errors.ts';
import { RUN_FILES } from '../contract/names.ts';
import { TIMELINE_FILE } from '../contract/timeline.ts';

export const RunMetaSchema = z.object({
  id: z.string(),
  cluster: z.string(),
  profile: z.string(),
  steps: z.array(z.string()),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  status: z.enum(['running', 'completed', 'aborted', 'invalid']),
  reason: z.string().optional(),
  specFile: z.string().nullable(),
  /** The spec text as it was at run time, so a re-judge without --config uses what the run was judged by. */
  specText: z.string().nullable(),
  harnessVersion: z.string(),
});
export type RunMeta = z.infer<typeof RunMetaSchema>;

export const RUN_META_FILE = RUN_FILES.meta;

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-').replace('Z', '');
}

/**
 * Creates the folder and records this harness process as its owner (`pids/owner`): while the owner lives,
 * `slo down <run>` asks it to tear down (SIGTERM) instead of reaping what it still uses, whatever the target.
 */
export function createRunDir(outDir: string, id: string): string {
  const dir = resolve(outDir, id);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'pids'), { recursive: true });
  writeFileSync(join(dir, 'pids', 'owner'), String(process.pid));
  return dir;
}

export function writeRunMeta(dir: string, meta: RunMeta): void {
  const tmp = join(dir, `.${RUN_META_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  renameSync(tmp, join(dir, RUN_META_FILE));
}

export function readRunMeta(dir: string): RunMeta {
  const file = join(dir, RUN_META_FILE);
  if (!existsSync(file) || !existsSync(join(dir, TIMELINE_FILE))) {
    throw errors.SLO_ERR_RUN_DIR_INVALID(`${dir} is not a run folder (needs ${RUN_META_FILE} and ${TIMELINE_FILE})`, 'pass a folder written by `slo run`, e.g. runs/<id>');
  }
  const parsed = RunMetaSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw errors.SLO_ERR_RUN_DIR_INVALID(`${file} is not a valid run description: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

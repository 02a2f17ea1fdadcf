// Runs `slo run` as a user does (the real binary in a child process) and reads back what it wrote: the exit
// code, the one-line JSON summary (--quiet) and the timeline's events. A failed test keeps its run folders.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { onTestFailed } from 'vitest';
import type { TimelineEvent } from '../../contract/timeline.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SLO = join(ROOT, 'bin', 'slo.js');

export interface SloRun { exitCode: number | undefined; summary: { result: string; failed: string[] }; events: TimelineEvent[]; output: string }

/** A scratch folder for run folders; `cleanup()` removes it unless a test failed (then it says where it is). */
export function runsFolder(prefix: string): { dir: string; keep: () => void; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let kept = false;
  return {
    dir,
    keep: () => { kept = true; },
    cleanup: () => {
      if (kept) process.stderr.write(`run folders kept in ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function sloRun(runs: ReturnType<typeof runsFolder>, name: string, args: string[]): Promise<SloRun> {
  onTestFailed(() => runs.keep());
  const out = join(runs.dir, name);
  const result = await execa(process.execPath, [SLO, 'run', '--quiet', '--out', out, ...args], {
    reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const [runDir] = readdirSync(out).map((entry) => join(out, entry));
  const events = readFileSync(join(runDir!, 'timeline.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as TimelineEvent & { kind: string })
    .filter((record) => record.kind === 'event');
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { result: string; failed: string[] };
  return { exitCode: result.exitCode, summary, events, output };
}

export const ofType = <T extends TimelineEvent['type']>(events: TimelineEvent[], type: T) =>
  events.filter((e): e is Extract<TimelineEvent, { type: T }> => e.type === type);

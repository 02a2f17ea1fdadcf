// What produced a run, recorded in the timeline (run.info) so the reports can say it: the harness version
// and commit, the engine, the profile, a hash of the spec, the machine and the target's own versions.
import { createHash } from 'node:crypto';
import { availableParallelism, release, totalmem } from 'node:os';
import { execa } from 'execa';
import type { Cluster } from '../clusters/types.ts';
import type { EventOf } from '../contract/timeline.ts';
import { HARNESS_VERSION } from './version.ts';

const REPO_ROOT = new URL('..', import.meta.url).pathname;

async function harnessCommit(): Promise<string | null> {
  const result = await execa('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, reject: false, timeout: 5_000 });
  return result.exitCode === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : null;
}

export function specHash(specText: string): string {
  return createHash('sha256').update(specText).digest('hex').slice(0, 16);
}

export async function provenance(options: { engine: string; profile: string; specText: string; cluster: Cluster | null }): Promise<EventOf<'run.info'>['data']> {
  let target: Record<string, string> = {};
  try {
    target = (await options.cluster?.versions?.()) ?? {};
  } catch {
    // A target that cannot say its versions still runs; the report shows none.
  }
  return {
    harness: { version: HARNESS_VERSION, commit: await harnessCommit() },
    engine: options.engine,
    profile: options.profile,
    specHash: specHash(options.specText),
    machine: { cores: availableParallelism(), memoryMiB: Math.round(totalmem() / 1024 / 1024), platform: `${process.platform} ${release()}` },
    target,
  };
}

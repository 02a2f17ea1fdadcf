// A ClusterContext for tests: a fresh runs folder, a real timeline file, and an abort controller.
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterContext } from '../../clusters/types.ts';
import { TIMELINE_FILE } from '../../contract/timeline.ts';
import { TimelineWriter } from '../../harness/timeline-file.ts';
import { standInCommand } from '../stand-in-service.ts';

/** The `--app` command line a user would give, here for the stand-in service with its process defaults. */
export const STAND_IN_COMMAND = standInCommand();

export function newRunsRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'slo-local-'));
  // mkdtemp makes it 0700; the database runs as `postgres` and must traverse it.
  chmodSync(root, 0o755);
  return root;
}

export function testContext(runsRoot: string, runName: string): ClusterContext & { controller: AbortController; timelineFile: string } {
  const runDir = join(runsRoot, runName);
  mkdirSync(runDir, { recursive: true });
  const controller = new AbortController();
  const timelineFile = join(runDir, TIMELINE_FILE);
  return { runDir, timeline: new TimelineWriter(timelineFile), signal: controller.signal, log: () => undefined, controller, timelineFile };
}

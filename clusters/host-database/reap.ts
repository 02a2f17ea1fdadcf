// Reaping: kills every process a database of `runDir` left behind (a crashed or killed harness), found by
// pid files first and then by command line, so that no orphan keeps a port or a data dir busy.
import { existsSync, readFileSync } from 'node:fs';
import { sleep } from '../wait.ts';
import { databaseLayout } from './layout.ts';
import { killMatching, livePidsFromFiles, matchingProcesses, processInfo, signalGroup, waitGone, type ProcessInfo } from './processes.ts';

/** Every process of the database of `runDir` that still runs, backends included. */
export function databaseProcesses(runDir: string): ProcessInfo[] {
  return matchingProcesses(reapMarkers(runDir));
}

/** Kills whatever of the database of `runDir` still runs; returns how many processes it found. */
export async function reapDatabase(runDir: string): Promise<number> {
  const layout = databaseLayout(runDir);
  const markers = reapMarkers(runDir);
  const fromPidFiles = livePidsFromFiles(layout.pids, layout.root);
  for (const pid of fromPidFiles) signalGroup(processInfo(pid)?.pgid ?? pid, 'SIGKILL');
  await waitGone(fromPidFiles, 3000);
  // Postmasters live in their own sessions and backends carry only "postgres: <scope>: ..." as title.
  let found = fromPidFiles.length;
  for (let round = 0; round < 3; round++) {
    const matched = killMatching(markers);
    found += matched;
    if (matched === 0) break;
    await sleep(200);
  }
  return found;
}

/** Command-line fragments that only this run's database processes carry. */
function reapMarkers(runDir: string): string[] {
  const layout = databaseLayout(runDir);
  const markers = [`${layout.root}/`];
  if (existsSync(layout.scopeFile)) {
    const scope = readFileSync(layout.scopeFile, 'utf8').trim();
    if (scope !== '') markers.push(`postgres: ${scope}: `);
  }
  return markers;
}

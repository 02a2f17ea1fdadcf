// `slo up` brings a target up and keeps it until Ctrl-C or `slo down <run-dir>`; meanwhile its endpoint
// can be driven by hand (k6, curl, a browser). `slo down` asks the owning `slo up` to tear down, or, when
// that process died (SIGKILL, a crashed run), reaps what it left from the run folder's pid files.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '../../contract/errors.ts';
import { ensureToolchain } from '../setup/toolchain.ts';
import { TIMELINE_FILE } from '../../contract/timeline.ts';
import { TimelineWriter } from '../timeline-file.ts';
import { createRunDir, newRunId, readRunMeta, RUN_META_FILE, writeRunMeta, type RunMeta } from '../run-dir.ts';
import { HARNESS_VERSION } from '../version.ts';
import { createTerminal } from '../progress.ts';
import { processAlive } from '../../clusters/process-alive.ts';
import { EMBEDDED_ADAPTERS, LOCAL_ADAPTERS, loadClusterAdapter } from '../../clusters/index.ts';
import { parseClusterName, parseSettings, type CommonOptions } from './options.ts';
import { abortOnSignals } from './run.ts';

export async function upCommand(options: CommonOptions): Promise<number> {
  const clusterName = parseClusterName(options.cluster);
  const settings = parseSettings(options.set);
  const terminal = createTerminal({ quiet: false });
  const controller = new AbortController();
  const release = abortOnSignals(controller, terminal);
  try {
    const factory = await loadClusterAdapter(clusterName);
    // Not root, or a missing program: one line and exit 3, before a run folder is written.
    await factory({ runDir: '/nonexistent', timeline: new TimelineWriter('/dev/null'), signal: AbortSignal.abort(), log: () => undefined }, { settings })
      .checkEnvironment?.();
    await ensureToolchain({ log: (line) => terminal.log(line), needsLocalTarget: LOCAL_ADAPTERS.has(clusterName), needsEmbeddedCluster: EMBEDDED_ADAPTERS.has(clusterName) });
    const id = newRunId();
    const runDir = createRunDir(options.out ?? 'runs', id);
    const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
    const meta: RunMeta = { id, cluster: clusterName, profile: 'up', steps: [], startedAt: Date.now(), endedAt: null, status: 'running', specFile: null, specText: null, harnessVersion: HARNESS_VERSION };
    writeRunMeta(runDir, meta);
    timeline.event('run.start', 'harness', { runId: id, cluster: clusterName, profile: 'up', steps: [] });
    const cluster = factory({ runDir, timeline, signal: controller.signal, log: (line) => terminal.log(line) }, {
      version: '1.0.0', settings, ...(options.app ? { app: options.app } : {}),
    });
    try {
      const endpoint = await cluster.up();
      terminal.log(`up: ${endpoint.baseUrl}${endpoint.prometheusUrl ? ` (Prometheus ${endpoint.prometheusUrl})` : ''}; run folder ${runDir}`);
      terminal.log(`Ctrl-C or \`slo down ${runDir}\` tears it down.`);
      await new Promise<void>((resolveWait) => controller.signal.addEventListener('abort', () => resolveWait(), { once: true }));
    } finally {
      await cluster.down();
      timeline.event('run.end', 'harness', { status: 'completed', reason: 'slo up ended' });
      writeRunMeta(runDir, { ...meta, endedAt: Date.now(), status: 'completed' });
    }
    return 0;
  } finally {
    release();
  }
}

/** Whether a process exists (signal 0 checks without signalling). */
export async function downCommand(runDirArgument: string): Promise<number> {
  const runDir = resolve(runDirArgument);
  if (!existsSync(join(runDir, RUN_META_FILE))) throw errors.SLO_ERR_RUN_DIR_INVALID(`${runDir} is not a run folder`, 'pass the folder `slo up` printed');
  const ownerFile = join(runDir, 'pids', 'owner');
  const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : 0;
  if (owner > 0 && owner !== process.pid && processAlive(owner)) {
    process.kill(owner, 'SIGTERM');
    for (let waited = 0; waited < 60_000 && processAlive(owner); waited += 250) await sleep(250);
    if (processAlive(owner)) throw errors.SLO_ERR_ENV_TIMEOUT(`slo process ${owner} did not finish tearing down within 60 s`, `kill -9 ${owner}, then run slo down again`);
    process.stdout.write(`down: slo process ${owner} tore ${runDir} down\n`);
    return 0;
  }
  // Only this run folder, through its target's own reaping; a target with nothing on this machine has none.
  const meta = readRunMeta(runDir);
  const name = parseClusterName(meta.cluster);
  // Only the targets that start things on this machine reap; the others are not even built (a kube or url
  // adapter needs the run's settings, which the run folder does not keep).
  const cluster = LOCAL_ADAPTERS.has(name)
    ? (await loadClusterAdapter(name))({ runDir, timeline: new TimelineWriter('/dev/null'), signal: AbortSignal.abort(), log: () => undefined }, {})
    : undefined;
  const summary = cluster?.reap ? await cluster.reap(runDir) : `the ${meta.cluster} target leaves nothing on this machine to reap`;
  process.stdout.write(`down: ${summary}\n`);
  return 0;
}

// `slo capacity`: bring the target up once, probe arrival rates with the sustained scenario, judge each
// probe by the latency and error-rate SLOs, report the highest rate that held. Exit 0 when a passing rate
// was found, 1 when even the lowest rate failed, 3 when the generator could not produce a rate.
import { join } from 'node:path';
import { ensureToolchain } from '../setup/toolchain.ts';
import { resolveProfile } from '../../contract/spec.ts';
import { loadSpec } from '../spec-file.ts';
import { eventRecord, TIMELINE_FILE } from '../../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../timeline-file.ts';
import { createRunDir, newRunId, writeRunMeta, type RunMeta } from '../run-dir.ts';
import { HARNESS_VERSION } from '../version.ts';
import { createTerminal } from '../progress.ts';
import { createLoadEngine, resolveStepScenario, runLoad } from '../../load/index.ts';
import { findCapacity, judgeProbe } from '../capacity.ts';
import { stepParams } from '../run-suite.ts';
import { HARNESS_SOURCE } from '../actions.ts';
import { EMBEDDED_ADAPTERS, LOCAL_ADAPTERS, loadClusterAdapter } from '../../clusters/index.ts';
import { errors } from '../../contract/errors.ts';
import { isQuiet, parseClusterName, parseEngineName, parsePositiveNumber, parseSettings, type CommonOptions } from './options.ts';
import { abortOnSignals } from './run.ts';

export async function capacityCommand(options: CommonOptions): Promise<number> {
  const clusterName = parseClusterName(options.cluster);
  const from = parsePositiveNumber('--from', options.from, 20);
  const to = parsePositiveNumber('--to', options.to, 400);
  if (to < from) throw errors.SLO_ERR_CLI_USAGE(`--to (${to}) must be >= --from (${from})`);
  const stepSeconds = parsePositiveNumber('--step-seconds', options.stepSeconds, 15);
  const spec = loadSpec(options.config);
  const template = resolveProfile(spec, options.profile ?? 'quick').steps.find((s) => s.scenario === 'sustained');
  if (!template) throw errors.SLO_ERR_SPEC_INVALID('slo capacity needs a step with scenario: sustained in the suite (its weights and cpuMs shape each probe)');
  const settings = { hpa: 'false', ...parseSettings(options.set) };
  const engineName = parseEngineName(options.engine, spec.load.engine);
  const quiet = isQuiet(options);
  const terminal = createTerminal({ quiet });
  const controller = new AbortController();
  const release = abortOnSignals(controller, terminal);
  try {
    await ensureToolchain({ log: (l) => terminal.log(l), needsLocalTarget: LOCAL_ADAPTERS.has(clusterName), needsEmbeddedCluster: EMBEDDED_ADAPTERS.has(clusterName) });
    const engine = createLoadEngine(engineName);
    await engine.prepare((l) => terminal.log(l));
    const id = newRunId();
    const runDir = createRunDir(options.out ?? 'runs', id);
    const timelineFile = join(runDir, TIMELINE_FILE);
    const timeline = new TimelineWriter(timelineFile);
    const meta: RunMeta = { id, cluster: clusterName, profile: 'capacity', steps: [], startedAt: Date.now(), endedAt: null, status: 'running', specFile: options.config ?? null, specText: null, harnessVersion: HARNESS_VERSION };
    writeRunMeta(runDir, meta);
    // One run per timeline: each probe is a step of it, judged on its own stretch.
    timeline.event('run.start', HARNESS_SOURCE, { runId: id, cluster: clusterName, profile: 'capacity', steps: [] });
    const cluster = (await loadClusterAdapter(clusterName))({ runDir, timeline, signal: controller.signal, log: (l) => terminal.log(l) }, { version: '1.0.0', settings, ...(options.app ? { app: options.app } : {}) });
    try {
      const endpoint = await cluster.up();
      const result = await findCapacity(async (rate) => {
        if (controller.signal.aborted) return 'invalid';
        const name = `capacity-${rate}`;
        const started = Date.now();
        const step = { ...template, name, durationS: stepSeconds, rates: { base: rate, peak: rate }, actions: [] };
        timeline.event('step.start', HARNESS_SOURCE, { step: name, scenario: 'sustained', durationS: stepSeconds }, started);
        const scenario = await resolveStepScenario(step.scenario, stepParams(step));
        const load = await runLoad(engine, { step: name, scenario, startAtMs: Date.now() + 500, runDir, slo: { p95Ms: spec.slos.latency.p95Ms, errorRatePercent: spec.slos.errorRate.maxPercent } },
          { baseUrl: endpoint.baseUrl }, { timeline, signal: controller.signal });
        timeline.event('step.end', HARNESS_SOURCE, { step: name, ok: load.status === 'completed', ...(load.reason ? { reason: load.reason } : {}) });
        const probeRecords = readTimeline(timelineFile).filter((r) => r.t >= started && (r.kind !== 'load' || r.step === name));
        // The probe is judged as a run of its own: framed in memory, never a second pair in the timeline.
        const records = [
          eventRecord('run.start', HARNESS_SOURCE, { runId: `${id}/${name}`, cluster: clusterName, profile: 'capacity', steps: [name] }, started),
          ...probeRecords,
          eventRecord('run.end', HARNESS_SOURCE, { status: load.status }),
        ];
        const outcome = judgeProbe(records, spec);
        terminal.log(`capacity: ${rate} req/s -> ${outcome}`);
        return outcome;
      }, { from, to });
      const summary = { highestPassingRate: result.highestPassing, lowestFailingRate: result.lowestFailing, invalidAt: result.invalidAt, probes: result.probes, runDir };
      process.stdout.write(quiet ? JSON.stringify(summary) + '\n'
        : `capacity: highest rate holding p95 < ${spec.slos.latency.p95Ms} ms and errors < ${spec.slos.errorRate.maxPercent} %: ${result.highestPassing ?? 'none'} req/s` +
          `${result.lowestFailing ? ` (fails at ${result.lowestFailing})` : ''}${result.invalidAt ? `; load generator saturated at ${result.invalidAt}` : ''}\n`);
      const status = controller.signal.aborted ? 'aborted' : 'completed';
      timeline.event('run.end', HARNESS_SOURCE, { status });
      writeRunMeta(runDir, { ...meta, endedAt: Date.now(), status });
      if (controller.signal.aborted || (result.invalidAt !== null && result.highestPassing === null)) return 3;
      return result.highestPassing === null ? 1 : 0;
    } finally {
      await cluster.down();
    }
  } finally {
    release();
  }
}

// One run, start to end: cluster up -> for each step, the load engine drives the step's scenario while its
// actions fire at their times on the load's own clock -> end-of-run evidence (write audit, observability,
// server-side latency) -> down -> verify -> reports. Everything observed goes to the timeline first; verdicts
// and reports are computed from the timeline only, exactly as `slo verify` would from the stored folder.
//
// Whatever happens (Ctrl-C, a crashed engine, a broken environment) the finally block tears the target down
// and writes the reports, marked aborted when the run did not complete.
import { join } from 'node:path';
import type { Cluster, ClusterOptions, Endpoint } from '../clusters/types.ts';
import { loadClusterAdapter, type ClusterName } from '../clusters/index.ts';
import { errors, isSloError, type ExitCode } from '../contract/errors.ts';
import type { ResolvedStep, ResolvedSuite, SloSpec } from '../contract/spec.ts';
import { eventsOf, TIMELINE_FILE } from '../contract/timeline.ts';
import type { Judgement } from '../verifiers/index.ts';
import { isK6Script, resolveStepScenario, runLoad, type LoadEngine, type LoadResult, type RunLoadOptions, type ScenarioParams } from '../load/index.ts';
import { runDistributedLoad } from '../load/runners/run-runners.ts';
import type { RunnerLauncher, RunnerPlacement } from '../load/runners/launcher.ts';
import { ActionSchedule, assertActionsSupported, carryOut, HARNESS_SOURCE } from './actions.ts';
import { exitCodeFor, judgeAndReport } from './judge.ts';
import { readTimeline, TimelineWriter } from './timeline-file.ts';
import { createRunDir, newRunId, writeRunMeta, type RunMeta } from './run-dir.ts';
import { HARNESS_VERSION } from './version.ts';
import { startOtlpReceiver, type OtlpReceiver } from './observability/otlp-receiver.ts';
import { checkLogFiles, checkMetrics, checkTraces } from './observability/checks.ts';
import { serviceTelemetryEnv } from './observability/service-telemetry.ts';
import { withSpan } from './self-tracing.ts';
import { provenance } from './provenance.ts';

export interface RunRequest {
  cluster: ClusterName;
  spec: SloSpec;
  specFile: string | null;
  specText: string | null;
  suite: ResolvedSuite;
  outDir: string;
  /** Prepared (program found or built) before the run folder was written. */
  engine: LoadEngine;
  app?: string;
  /** The user's own scenario module or k6 script, used in place of every step's scenario. */
  scenarioOverride?: string;
  settings: Record<string, string>;
  /** Distributed load (`--runners N`, N > 1): pods of the embedded engine in the target cluster. */
  runners?: { count: number; placement: RunnerPlacement; startAllowanceMs: number };
  baselineDir?: string;
  signal: AbortSignal;
  log: (line: string) => void;
  progress: (line: string) => void;
}

export interface RunOutcome {
  runDir: string;
  status: RunMeta['status'];
  reason?: string;
  judgement: Judgement;
  exitCode: ExitCode;
  reports: string[];
}

/** How long before its t=0 a step's load is armed: the engine starts, the actions get the same origin. */
const START_MARGIN_MS = 1000;

/** What a scenario declaration receives for a step. Durations and rates are already scaled by the profile. */
export function stepParams(step: ResolvedStep): ScenarioParams {
  return {
    rateBase: step.rates.base, ratePeak: step.rates.peak, durationS: Math.max(1, Math.round(step.durationS)),
    timeScale: 1, weights: step.weights, cpuMs: step.cpuMs,
  };
}

/** The step's scenario: the user's override, else its own; a *.k6.ts script stays a script (k6 engine). */
export function stepScenarioSource(step: ResolvedStep, override?: string): string {
  return override ?? step.scenario;
}

async function runStep(step: ResolvedStep, request: RunRequest, cluster: Cluster, endpoint: Endpoint, runDir: string, timeline: TimelineWriter): Promise<LoadResult> {
  const source = stepScenarioSource(step, request.scenarioOverride);
  timeline.event('step.start', HARNESS_SOURCE, { step: step.name, scenario: source, durationS: step.durationS });
  const isScript = isK6Script(source);
  const scenario = isScript ? null : await resolveStepScenario(source, stepParams(step));
  const schedule = new ActionSchedule(step.actions, (action) => carryOut(cluster, action, timeline, request.log));
  try {
    const load = {
      step: step.name,
      scenario,
      ...(isScript ? { script: source } : {}),
      startAtMs: Date.now() + START_MARGIN_MS,
      runDir,
      slo: { p95Ms: request.spec.slos.latency.p95Ms, errorRatePercent: request.spec.slos.errorRate.maxPercent },
    };
    const runners = request.runners;
    const options: RunLoadOptions = {
      timeline,
      signal: request.signal,
      // Actions and load share one time origin: the t=0 the engine reports, not when the harness asked.
      onStart: (atMs) => schedule.start(atMs),
      onProgress: (p) => request.progress(
        `${step.name}: ${Math.round(p.elapsedS)}/${Math.round(p.totalS)} s, ${Math.round(p.rate)} req/s, p95 ${p.p95Ms === null ? '-' : `${Math.round(p.p95Ms)} ms`}, errors ${p.errors}, dropped ${p.dropped}`,
      ),
    };
    // N runner pods share the step's rate from one t=0 set far enough ahead for the pods to start.
    const result = runners
      ? await runDistributedLoad(launcherOf(cluster), load, { ...options, runners: runners.count, placement: runners.placement, startAllowanceMs: runners.startAllowanceMs })
      : await runLoad(request.engine, load, { baseUrl: endpoint.baseUrl }, options);
    // An action still running (a failover waiting for its new primary) belongs to this step.
    await schedule.settle();
    timeline.event('step.end', HARNESS_SOURCE, { step: step.name, ok: result.status === 'completed', ...(result.reason ? { reason: result.reason } : {}) });
    return result;
  } finally {
    schedule.cancel();
  }
}

/** The cluster's ability to run the engine as an Indexed Job, as distributed load uses it. */
function launcherOf(cluster: Cluster): RunnerLauncher {
  const { runnerBaseUrl, runLoadInCluster } = cluster;
  if (!runnerBaseUrl || !runLoadInCluster) throw errors.SLO_ERR_ACTION_UNSUPPORTED(`the ${cluster.name} target cannot run load runners as pods`, 'leave --runners out');
  return { runnerBaseUrl: () => runnerBaseUrl.call(cluster), runLoadInCluster: (request, events) => runLoadInCluster.call(cluster, request, events) };
}

/** Evidence that needs the target still up: durability of acknowledged writes and the /metrics series. */
async function collectLiveEvidence(cluster: Cluster, endpoint: Endpoint, acked: readonly string[], timeline: TimelineWriter, steps: Array<{ from: number; to: number }>): Promise<void> {
  if (cluster.missingOrders && acked.length > 0) {
    try {
      const missing = await cluster.missingOrders(acked);
      timeline.event('writes.audit', HARNESS_SOURCE, { acknowledged: acked.length, missing: missing.length, missingIds: missing.slice(0, 100) });
    } catch (error) {
      // The failover verdict then fails for lack of evidence, and says why.
      timeline.event('writes.audit.failed', HARNESS_SOURCE, { acknowledged: acked.length, reason: isSloError(error) ? error.oneLine() : (error as Error).message });
    }
  }
  const metrics = await checkMetrics(endpoint.baseUrl);
  timeline.event('observability', HARNESS_SOURCE, metrics);
  if (cluster.serverLatency) {
    for (const window of steps) {
      try {
        const server = await cluster.serverLatency(window.from, window.to);
        timeline.event('server.latency', HARNESS_SOURCE, { from: Math.round(window.from), p95Ms: server.p95Ms, requests: server.requests }, window.to);
      } catch {
        // Server-side p95 is shown beside the client's; without it the client-side verdict still stands.
      }
    }
  }
}

export async function runSuite(request: RunRequest): Promise<RunOutcome> {
  const id = newRunId();
  const runDir = createRunDir(request.outDir, id);
  const timeline = new TimelineWriter(join(runDir, TIMELINE_FILE));
  const meta: RunMeta = {
    id, cluster: request.cluster, profile: request.suite.profile, steps: request.suite.steps.map((s) => s.name),
    startedAt: Date.now(), endedAt: null, status: 'running', specFile: request.specFile, specText: request.specText,
    harnessVersion: HARNESS_VERSION,
  };
  writeRunMeta(runDir, meta);
  timeline.event('run.start', HARNESS_SOURCE, { runId: id, cluster: request.cluster, profile: request.suite.profile, steps: meta.steps });
  request.log(`run ${id}: ${meta.steps.join(', ')} on ${request.cluster} (${request.suite.profile}, ${request.engine.name} engine); folder ${runDir}`);

  let otlp: OtlpReceiver | null = null;
  let cluster: Cluster | null = null;
  let status: RunMeta['status'] = 'completed';
  let reason: string | undefined;
  const acked: string[] = [];
  const stepWindows: Array<{ from: number; to: number }> = [];

  try {
    const options: ClusterOptions = {
      version: '1.0.0',
      autoscalerSyncS: request.suite.autoscalerSyncS,
      timeScale: request.suite.timeScale,
      settings: request.settings,
      ...(request.app ? { app: request.app } : {}),
    };
    cluster = (await loadClusterAdapter(request.cluster))({ runDir, timeline, signal: request.signal, log: request.log }, options);
    assertActionsSupported(cluster, request.suite);
    if (cluster.sendTelemetryTo) {
      otlp = await startOtlpReceiver(cluster.telemetryHost);
      cluster.sendTelemetryTo(serviceTelemetryEnv(otlp.url, request.spec.slos.observability.traceSampleRatio));
    }
    const endpoint = await withSpan('cluster.up', () => cluster!.up());
    request.log(`target up at ${endpoint.baseUrl}`);
    timeline.event('run.info', HARNESS_SOURCE, await provenance({
      engine: request.engine.name, profile: request.suite.profile, specText: request.specText ?? JSON.stringify(request.spec), cluster,
    }));
    // Before any load: e.g. the kube adapter refuses destructive actions in a namespace that has not opted in.
    await cluster.preflight?.([...new Set(request.suite.steps.flatMap((s) => s.actions.map((a) => a.do)))]);
    // Distributed load: the runners' image in place and their namespace opted in, before any load.
    if (request.runners) {
      launcherOf(cluster);
      await cluster.prepareLoadRunners?.(request.runners.placement);
      request.log(`load: ${request.runners.count} runner pods of the embedded engine per step`);
    }

    for (const step of request.suite.steps) {
      if (request.signal.aborted) break;
      const from = Date.now();
      const result = await withSpan(`step.${step.name}`, () => runStep(step, request, cluster!, endpoint, runDir, timeline));
      stepWindows.push({ from, to: Date.now() });
      acked.push(...result.ackedOrderIds);
      if (result.status !== 'completed') {
        status = result.status;
        reason = result.reason;
        break;
      }
    }
    if (request.signal.aborted) {
      status = 'aborted';
      reason ??= 'interrupted (Ctrl-C or SIGTERM)';
    }
    if (status !== 'aborted') await withSpan('evidence', () => collectLiveEvidence(cluster!, endpoint, acked, timeline, stepWindows));
  } catch (error) {
    status = 'aborted';
    reason = request.signal.aborted ? 'interrupted (Ctrl-C or SIGTERM)' : isSloError(error) ? error.oneLine() : `harness error: ${(error as Error).message}`;
    request.log(`run aborted: ${reason}`);
  } finally {
    try {
      await withSpan('cluster.down', async () => { await cluster?.down(); });
    } catch (error) {
      request.log(`teardown: ${(error as Error).message}`);
    }
  }

  // After down: replicas have flushed their spans and closed their logs.
  if (otlp && status !== 'aborted') timeline.event('observability', HARNESS_SOURCE, checkTraces(otlp.stats()));
  const logsDir = cluster?.podLogsDir?.();
  if (logsDir && status !== 'aborted') {
    const pods = eventsOf(readTimeline(join(runDir, TIMELINE_FILE)), 'pod.start').map((e) => e.data.pod);
    timeline.event('observability', HARNESS_SOURCE, checkLogFiles(logsDir, pods));
  }
  await otlp?.close();
  timeline.event('run.end', HARNESS_SOURCE, { status, ...(reason ? { reason } : {}) });
  Object.assign(meta, { endedAt: Date.now(), status, ...(reason ? { reason } : {}) });
  writeRunMeta(runDir, meta);

  const { judgement, files } = await judgeAndReport(runDir, meta, request.spec, request.baselineDir);
  return { runDir, status, ...(reason ? { reason } : {}), judgement, exitCode: exitCodeFor(status, judgement), reports: files };
}

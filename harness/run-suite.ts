// One run, start to end: cluster up -> for each step, k6 load with the step's actions at their times ->
// end-of-run evidence (write audit, observability, server-side latency) -> down -> verify -> reports.
// Everything observed goes to the timeline first; verdicts and reports are computed from the timeline only,
// exactly as `slo verify` would from the stored folder.
//
// Whatever happens (Ctrl-C, a crashed k6, a broken environment) the finally block tears the target down
// and writes the reports, marked aborted when the run did not complete.
import { join } from 'node:path';
import type { Cluster, ClusterOptions, Endpoint } from '../clusters/types.ts';
import { loadClusterAdapter, type ClusterName } from '../clusters/index.ts';
import { queryServerP95 } from '../clusters/local/prometheus.ts';
import { verify, type Judgement } from '../verifiers/index.ts';
import { writeReports } from '../reports/index.ts';
import { errors, isSloError, type ExitCode } from '../contract/errors.ts';
import type { ResolvedAction, ResolvedStep, ResolvedSuite, SloSpec } from '../contract/spec.ts';
import { eventsOf, TIMELINE_FILE } from '../contract/timeline.ts';
import { readTimeline, TimelineWriter } from './timeline-file.ts';
import { createRunDir, newRunId, writeRunMeta, type RunMeta } from './run-dir.ts';
import { HARNESS_VERSION } from './version.ts';
import { resolveScenario, runK6, scenarioEnv, type LoadResult } from '../load/index.ts';
import { startOtlpReceiver, type OtlpReceiver } from './observability/otlp-receiver.ts';
import { checkLogFiles, checkMetrics, checkTraces } from './observability/checks.ts';
import { compareWithBaseline } from './baseline.ts';
import { withSpan } from './self-tracing.ts';

const HARNESS_SOURCE = 'harness';

export interface RunRequest {
  cluster: ClusterName;
  spec: SloSpec;
  specFile: string | null;
  specText: string | null;
  suite: ResolvedSuite;
  outDir: string;
  k6Path: string;
  app?: string;
  /** The user's own k6 script, used in place of every step's scenario. */
  scenarioOverride?: string;
  settings: Record<string, string>;
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

const ACTION_ABILITY = { kill: 'killPod', rollout: 'rollout', failover: 'failover', scale: 'scale' } as const satisfies Record<ResolvedAction['do'], keyof Cluster>;

/** Refuses, before anything starts, a suite whose actions the target cannot carry out. */
export function assertActionsSupported(cluster: Cluster, suite: ResolvedSuite): void {
  for (const step of suite.steps) {
    for (const action of step.actions) {
      const ability = ACTION_ABILITY[action.do];
      if (typeof cluster[ability] !== 'function') {
        throw errors.SLO_ERR_ACTION_UNSUPPORTED(`step "${step.name}" asks for "${action.do}", which the ${cluster.name} target cannot do`, 'drop the action or the step with --steps');
      }
    }
  }
}

/** The k6 script of a step: the user's --scenario, else the step's built-in name or script path. */
export function scenarioScript(step: ResolvedStep, override?: string): string {
  return resolveScenario(override ?? step.scenario);
}

/** What a scenario script reads from its environment. Durations are already scaled by the profile. */
export function stepEnv(step: ResolvedStep): Record<string, string> {
  return scenarioEnv({
    rateBase: step.rates.base, ratePeak: step.rates.peak, durationS: Math.max(1, Math.round(step.durationS)),
    timeScale: 1, weights: step.weights, cpuMs: step.cpuMs,
  });
}

async function carryOut(cluster: Cluster, action: ResolvedAction, timeline: TimelineWriter, log: (line: string) => void): Promise<void> {
  const detail: Record<string, unknown> = { atS: Math.round(action.atS * 10) / 10 };
  if (action.version) detail['version'] = action.version;
  if (action.pod) detail['pod'] = action.pod;
  if (action.replicas !== undefined) detail['replicas'] = action.replicas;
  timeline.event('action.start', HARNESS_SOURCE, { action: action.do, detail });
  log(`action ${action.do} started`);
  try {
    switch (action.do) {
      case 'kill': {
        const pod = await cluster.killPod!(action.pod);
        log(`killed ${pod}`);
        break;
      }
      case 'rollout':
        await cluster.rollout!(action.version ?? 'next');
        break;
      case 'failover':
        await cluster.failover!();
        break;
      case 'scale':
        await cluster.scale!(action.replicas ?? 3);
        break;
    }
    timeline.event('action.end', HARNESS_SOURCE, { action: action.do, ok: true });
    log(`action ${action.do} done`);
  } catch (error) {
    const message = isSloError(error) ? error.oneLine() : (error as Error).message;
    timeline.event('action.end', HARNESS_SOURCE, { action: action.do, ok: false, error: message });
    log(`action ${action.do} failed: ${message}`);
  }
}

async function runStep(step: ResolvedStep, request: RunRequest, cluster: Cluster, endpoint: Endpoint, runDir: string, timeline: TimelineWriter): Promise<LoadResult> {
  timeline.event('step.start', HARNESS_SOURCE, { step: step.name, scenario: request.scenarioOverride ?? step.scenario, durationS: step.durationS });
  const timers: NodeJS.Timeout[] = [];
  const actions: Promise<void>[] = [];
  for (const action of step.actions) {
    timers.push(setTimeout(() => actions.push(carryOut(cluster, action, timeline, request.log)), action.atS * 1000));
  }
  try {
    const result = await runK6({
      k6Path: request.k6Path,
      script: scenarioScript(step, request.scenarioOverride),
      baseUrl: endpoint.baseUrl,
      step: step.name,
      env: stepEnv(step),
      slo: { p95Ms: request.spec.slos.latency.p95Ms, errorRatePercent: request.spec.slos.errorRate.maxPercent },
      timeline,
      runDir,
      signal: request.signal,
      onProgress: (p) => request.progress(
        `${step.name}: ${Math.round(p.elapsedS)}/${Math.round(p.totalS)} s, ${Math.round(p.rate)} req/s, p95 ${p.p95Ms === null ? '-' : `${Math.round(p.p95Ms)} ms`}, errors ${p.errors}, dropped ${p.dropped}`,
      ),
    });
    timers.forEach(clearTimeout);
    // An action still running (a failover waiting for its new primary) belongs to this step.
    await Promise.allSettled(actions);
    timeline.event('step.end', HARNESS_SOURCE, { step: step.name, ok: result.status === 'completed', ...(result.reason ? { reason: result.reason } : {}) });
    return result;
  } finally {
    timers.forEach(clearTimeout);
  }
}

/** Evidence that needs the target still up: durability of acknowledged writes and the /metrics series. */
async function collectLiveEvidence(cluster: Cluster, endpoint: Endpoint, acked: readonly string[], timeline: TimelineWriter, steps: Array<{ from: number; to: number }>): Promise<void> {
  if (cluster.missingOrders && acked.length > 0) {
    try {
      const missing = await cluster.missingOrders(acked);
      timeline.event('writes.audit', HARNESS_SOURCE, { acknowledged: acked.length, missing: missing.length, missingIds: missing.slice(0, 100) });
    } catch (error) {
      // No audit event: the failover verdict then fails for lack of evidence, which is the honest outcome.
      timeline.event('observability', HARNESS_SOURCE, { signal: 'metrics', ok: false, detail: `write audit failed: ${(error as Error).message}` });
    }
  }
  const metrics = await checkMetrics(endpoint.baseUrl);
  timeline.event('observability', HARNESS_SOURCE, metrics);
  if (endpoint.prometheusUrl) {
    for (const window of steps) {
      try {
        const server = await queryServerP95(endpoint.prometheusUrl, window.from, window.to);
        timeline.event('server.latency', HARNESS_SOURCE, { from: Math.round(window.from), p95Ms: server.p95Ms, requests: server.requests }, window.to);
      } catch {
        // Server-side p95 is shown beside the client's; without it the client-side verdict still stands.
      }
    }
  }
}

function exitCodeFor(status: RunMeta['status'], judgement: Judgement): ExitCode {
  if (status === 'aborted' || status === 'invalid' || judgement.status === 'invalid') return 3;
  return judgement.status === 'pass' ? 0 : 1;
}

/**
 * A compressed profile compresses the autoscaler's own clocks too: with upstream's 300 s scale-down
 * stabilization a ten-times-shorter spike could never be seen scaling back. Only the local target runs its
 * own autoscaler; the user's --set values win.
 */
export function targetSettings(cluster: ClusterName, suite: ResolvedSuite, settings: Record<string, string>): Record<string, string> {
  if (cluster !== 'local' || suite.timeScale >= 1) return settings;
  const scaled = (seconds: number) => String(Math.max(suite.autoscalerSyncS, Math.round(seconds * suite.timeScale)));
  return { scaleDownStabilizationS: scaled(300), cpuInitializationPeriodS: scaled(300), ...settings };
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
  request.log(`run ${id}: ${meta.steps.join(', ')} on ${request.cluster} (${request.suite.profile}); folder ${runDir}`);

  const isLocal = request.cluster === 'local';
  let otlp: OtlpReceiver | null = null;
  let cluster: Cluster | null = null;
  let status: RunMeta['status'] = 'completed';
  let reason: string | undefined;
  const acked: string[] = [];
  const stepWindows: Array<{ from: number; to: number }> = [];

  try {
    otlp = isLocal ? await startOtlpReceiver() : null;
    const options: ClusterOptions = {
      version: '1.0.0',
      autoscalerSyncS: request.suite.autoscalerSyncS,
      settings: targetSettings(request.cluster, request.suite, request.settings),
      ...(request.app ? { app: request.app } : {}),
      ...(otlp ? {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'reference-app',
        },
      } : {}),
    };
    cluster = (await loadClusterAdapter(request.cluster))({ runDir, timeline, signal: request.signal, log: request.log }, options);
    assertActionsSupported(cluster, request.suite);
    const endpoint = await withSpan('cluster.up', () => cluster!.up());
    request.log(`target up at ${endpoint.baseUrl}`);
    // Before any load: e.g. the kube adapter refuses destructive actions in a namespace that has not opted in.
    await cluster.preflight?.([...new Set(request.suite.steps.flatMap((s) => s.actions.map((a) => a.do)))]);

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
  if (isLocal && status !== 'aborted') {
    timeline.event('observability', HARNESS_SOURCE, checkTraces(otlp?.stats() ?? null));
    const pods = eventsOf(readTimeline(join(runDir, TIMELINE_FILE)), 'pod.start').map((e) => e.data.pod);
    timeline.event('observability', HARNESS_SOURCE, checkLogFiles(join(runDir, 'logs'), pods));
  }
  await otlp?.close();
  timeline.event('run.end', HARNESS_SOURCE, { status, ...(reason ? { reason } : {}) });
  Object.assign(meta, { endedAt: Date.now(), status, ...(reason ? { reason } : {}) });
  writeRunMeta(runDir, meta);

  const { judgement, files } = await judgeAndReport(runDir, meta, request.spec, request.baselineDir);
  return { runDir, status, ...(reason ? { reason } : {}), judgement, exitCode: exitCodeFor(status, judgement), reports: files };
}

/** Shared by `slo run` and `slo verify`: the timeline and a spec in, verdicts and the four reports out. */
export async function judgeAndReport(runDir: string, meta: RunMeta, spec: SloSpec, baselineDir?: string): Promise<{ judgement: Judgement; files: string[]; exitCode: ExitCode }> {
  const records = readTimeline(join(runDir, TIMELINE_FILE));
  const judgement = verify(records, spec);
  const baseline = baselineDir ? compareWithBaseline(judgement, baselineDir) : undefined;
  const { files } = writeReports(runDir, {
    run: {
      id: meta.id, cluster: meta.cluster, profile: meta.profile, startedAt: meta.startedAt, endedAt: meta.endedAt ?? Date.now(),
      status: meta.status === 'running' ? 'aborted' : meta.status, ...(meta.reason ? { reason: meta.reason } : {}),
      harnessVersion: meta.harnessVersion, steps: meta.steps,
    },
    judgement,
    records,
    ...(baseline ? { baseline } : {}),
  });
  return { judgement, files, exitCode: exitCodeFor(meta.status === 'running' ? 'aborted' : meta.status, judgement) };
}

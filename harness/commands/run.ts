// `slo run`: every flag and the spec are validated before anything is started or written (exit 2 on bad
// input), then the toolchain is ensured, then the run itself. Ctrl-C / SIGTERM abort the run: the target
// is torn down and the reports are still written, marked aborted.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { resolveProfile, type ResolvedSuite, type SloSpec } from '../../contract/spec.ts';
import { loadSpec } from '../spec-file.ts';
import { unshowableError } from '../spec-checks.ts';
import { ensureToolchain } from '../setup/toolchain.ts';
import { runSuite, stepParams, stepScenarioSource, type RunOutcome } from '../run-suite.ts';
import { assertActionsSupported } from '../actions.ts';
import { createLoadEngine, isK6Script, resolveScenario, resolveStepScenario, type EngineName } from '../../load/index.ts';
import { TimelineWriter } from '../timeline-file.ts';
import { createTerminal, type Terminal } from '../progress.ts';
import { startSelfTracing } from '../self-tracing.ts';
import { EMBEDDED_ADAPTERS, LOCAL_ADAPTERS, loadClusterAdapter, type ClusterName } from '../../clusters/index.ts';
import type { Cluster } from '../../clusters/types.ts';
import { isQuiet, parseClusterName, parseEngineName, parsePositiveNumber, parseRunners, parseSettings, parseStepNames, requireExistingFile, type CommonOptions } from './options.ts';
import { printOutcome } from './summary.ts';

export interface PreparedRun {
  /** The adapter built only to ask it questions before the run (abilities, missing tools). */
  probe: Cluster;
  cluster: ClusterName;
  spec: SloSpec;
  specFile: string | null;
  specText: string | null;
  suite: ResolvedSuite;
  settings: Record<string, string>;
  scenario: string | undefined;
  baseline: string | undefined;
  engine: EngineName;
  /** Distributed load: pods of the embedded engine (1: in process), and the seconds they get to start. */
  runners: number;
  runnerStartS: number;
}

export function selectSteps(suite: ResolvedSuite, names: string[] | undefined): ResolvedSuite {
  if (!names) return suite;
  const known = suite.steps.map((step) => step.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw errors.SLO_ERR_STEP_UNKNOWN(`--steps names ${unknown.map((n) => `"${n}"`).join(', ')}, not a step of profile ${suite.profile}`, `valid steps: ${known.join(', ')}`);
  }
  return { ...suite, steps: suite.steps.filter((step) => names.includes(step.name)) };
}

/** Everything that can be wrong with the input, found before any side effect. */
export async function prepareRun(options: CommonOptions): Promise<PreparedRun> {
  const cluster = parseClusterName(options.cluster);
  if (options.app !== undefined && !LOCAL_ADAPTERS.has(cluster)) {
    throw errors.SLO_ERR_CLI_USAGE(`--app only applies to --cluster local or embedded, not ${cluster}`, 'on kind or kube, deploy your service and pass --set serviceUrl=...');
  }
  if (options.app !== undefined && options.app.trim() === '') throw errors.SLO_ERR_CLI_USAGE('--app needs a command, e.g. --app "node server.js"');
  const specFile = options.config ? resolve(options.config) : null;
  if (options.config !== undefined && !existsSync(options.config)) {
    throw errors.SLO_ERR_SPEC_NOT_FOUND(`--config file "${options.config}" does not exist`, 'pass an existing slo.yaml, or leave --config out for the defaults');
  }
  const spec = loadSpec(specFile ?? undefined);
  const suite = selectSteps(resolveProfile(spec, options.profile ?? 'quick'), parseStepNames(options.steps));
  const scenario = requireExistingFile('--scenario', options.scenario);
  const engine = parseEngineName(options.engine, spec.load.engine);
  const runners = parseRunners(options.runners, spec.load.runners);
  const runnersFrom = options.runners !== undefined ? '--runners' : 'load.runners';
  if (runners > 1 && engine !== 'embedded') {
    throw errors.SLO_ERR_CLI_USAGE(`${runnersFrom} ${runners} runs pods of the embedded engine; the ${engine} engine runs in the harness's process`, 'leave --engine out, or run one runner');
  }
  // Every step's scenario must load and resolve before anything starts (a typo must not surface mid-run).
  await checkScenarios(suite, scenario, engine);
  if (options.baseline !== undefined && !existsSync(join(options.baseline, 'report.json'))) {
    throw errors.SLO_ERR_CLI_USAGE(`--baseline "${options.baseline}" holds no report.json`, 'pass the folder of an earlier run, e.g. runs/<id>');
  }
  const settings = parseSettings(options.set);
  // Adapters do nothing until up(), so one built here only to ask which actions it can carry out. Its
  // context points nowhere: nothing may be written before the input is known to be good.
  const probe = (await loadClusterAdapter(cluster))(
    { runDir: '/nonexistent', timeline: new TimelineWriter('/dev/null'), signal: AbortSignal.abort(), log: () => undefined },
    { settings, ...(options.app ? { app: options.app } : {}) },
  );
  if (runners > 1 && typeof probe.runLoadInCluster !== 'function') {
    throw errors.SLO_ERR_CLI_USAGE(`${runnersFrom} ${runners} runs the load as pods of a Kubernetes Job; --cluster ${cluster} has no Kubernetes`, `use --cluster local (embedded), kind or kube, or run one runner`);
  }
  assertActionsSupported(probe, suite);
  const runnerStartS = parsePositiveNumber('--set runnerStartS', settings.runnerStartS, 20);
  // Steps that cannot show what they are judged on at this profile (a rollout too late to finish, a spike
  // too light to reach max replicas) are bad input too; last, so a wrong flag is named first.
  const unshowable = unshowableError(spec, suite, specFile ?? '<built-in defaults>', { scenarioOverride: scenario });
  if (unshowable) throw unshowable;
  return {
    probe, cluster, spec, specFile, specText: specFile ? readFileSync(specFile, 'utf8') : null, suite,
    settings, scenario, baseline: options.baseline, engine, runners, runnerStartS,
  };
}

/** Each step's scenario module loads and declares a plan and a mix; a k6 script only runs on k6 (exit 2). */
export async function checkScenarios(suite: ResolvedSuite, override: string | undefined, engine: EngineName): Promise<void> {
  for (const step of suite.steps) {
    const source = stepScenarioSource(step, override);
    if (isK6Script(source)) {
      resolveScenario(source);
      if (engine !== 'k6') {
        throw errors.SLO_ERR_CLI_USAGE(`step "${step.name}": ${source} is a k6 script, which only the k6 engine runs`, 'add --engine k6 (with k6 v1.x on PATH), or write a scenario module (see scenarios/spike.ts)');
      }
      continue;
    }
    await resolveStepScenario(source, stepParams(step));
  }
}

/** SIGINT/SIGTERM abort the run once; the teardown that follows must not be cut short by a second one. */
export function abortOnSignals(controller: AbortController, terminal: Terminal): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) {
      terminal.log(`${signal}: stopping the load, tearing down, writing the reports (marked aborted)...`);
      controller.abort(new Error(`received ${signal}`));
    } else {
      terminal.log(`${signal} again: still tearing down; every process is stopped before exit`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

export async function runCommand(options: CommonOptions): Promise<number> {
  const prepared = await prepareRun(options);
  const quiet = isQuiet(options);
  const terminal = createTerminal({ quiet });
  const controller = new AbortController();
  const release = abortOnSignals(controller, terminal);
  const tracing = await startSelfTracing();
  try {
    // A missing docker or kind is one line and exit 3, with no run folder half-written.
    await prepared.probe.checkEnvironment?.();
    await ensureToolchain({ log: (line) => terminal.log(line), needsLocalTarget: LOCAL_ADAPTERS.has(prepared.cluster), needsEmbeddedCluster: EMBEDDED_ADAPTERS.has(prepared.cluster) });
    // The engine's program found or built before the run folder is written: a missing Go or k6 is one line, exit 3.
    const engine = createLoadEngine(prepared.engine);
    await engine.prepare((line) => terminal.log(line));
    if (controller.signal.aborted) throw errors.SLO_ERR_RUN_ABORTED('interrupted before the run started; nothing was started or written');
    const outcome: RunOutcome = await runSuite({
      cluster: prepared.cluster,
      spec: prepared.spec,
      specFile: prepared.specFile,
      specText: prepared.specText,
      suite: prepared.suite,
      outDir: options.out ?? 'runs',
      engine,
      settings: prepared.settings,
      ...(prepared.runners > 1 ? { runners: { count: prepared.runners, placement: prepared.spec.load.runnerPods, startAllowanceMs: prepared.runnerStartS * 1000 } } : {}),
      signal: controller.signal,
      log: (line) => terminal.log(line),
      progress: (line) => terminal.progress(line),
      ...(options.app ? { app: options.app } : {}),
      ...(prepared.scenario ? { scenarioOverride: prepared.scenario } : {}),
      ...(prepared.baseline ? { baselineDir: prepared.baseline } : {}),
    });
    terminal.done();
    printOutcome(outcome, quiet);
    return outcome.exitCode;
  } finally {
    release();
    await tracing?.shutdown();
  }
}

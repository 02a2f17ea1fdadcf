// The load engine's public surface, for the orchestrator and the CLI.
export { ensureK6, K6_VERSION } from './k6-install.ts';
export { runK6, type LoadProgress, type LoadResult, type RunK6Options } from './run-k6.ts';
export { BUILT_IN_SCENARIOS, resolveScenario, scenarioEnv, type ScenarioSettings } from './scenarios.ts';
export { mergeLoadRecords } from './merge.ts';
export { archiveScript, k6OperatorManifests, k6OperatorYaml, type TestRunOptions } from './k6-operator.ts';
export { createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, percentileMs, recordMs } from '../contract/histogram.ts';
export { planFor, rateAt, type LoadPlan, type Phase, type ScenarioKind } from '../scenarios/lib/plan.ts';
export { thresholdsFromSlo } from '../scenarios/lib/thresholds.ts';

// The load engines' public surface, for the orchestrator and the CLI.
export { ENGINE_NAMES, type EngineName, type LoadEngine, type StepLoad } from './engine.ts';
export { createLoadEngine, loadEngines } from './engines.ts';
export { runLoad, type LoadProgress, type LoadResult, type RunLoadOptions } from './run-load.ts';
export { BUILT_IN_SCENARIOS, isK6Script, loadScenarioModule, resolveScenario, resolveStepScenario } from './scenarios.ts';
export { mergeLoadRecords } from './merge.ts';
export { archiveScript, k6OperatorManifests, k6OperatorYaml, type TestRunOptions } from './k6/operator.ts';
export { planFor, rateAt, type LoadPlan, type Phase, type ScenarioKind } from '../scenarios/lib/plan.ts';
export type { ResolvedScenario, ScenarioParams } from '../scenarios/lib/scenario.ts';

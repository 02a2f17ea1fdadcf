// Scenarios: built-in names -> scenario modules, a user's own scenario module (`--scenario ./mine.ts`) or a
// user's own k6 script (`--engine k6 --scenario ./mine.k6.ts`), and their resolution into the plan and mix of
// one step.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errors } from '../contract/errors.ts';
import { BUILT_IN_SCENARIOS } from '../contract/names.ts';
import { resolveScenarioDefinition, type ResolvedScenario, type ScenarioDefinition, type ScenarioParams } from '../scenarios/lib/scenario.ts';

export { BUILT_IN_SCENARIOS };

const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

/** A k6 script is named `*.k6.ts` / `*.k6.js`: it runs only on the k6 engine, as it is. */
export function isK6Script(path: string): boolean {
  return /\.k6\.(ts|js|mjs|cjs)$/.test(path);
}

/** Absolute path of a built-in scenario module or of an existing user file (relative to `cwd`). */
export function resolveScenario(nameOrPath: string, cwd = process.cwd()): string {
  if ((BUILT_IN_SCENARIOS as readonly string[]).includes(nameOrPath)) return join(SCENARIO_DIR, `${nameOrPath}.ts`);
  const path = resolve(cwd, nameOrPath);
  if (!existsSync(path)) {
    throw errors.SLO_ERR_SCENARIO_UNKNOWN(`no scenario "${nameOrPath}" (not ${BUILT_IN_SCENARIOS.join(', ')}, and no file ${path})`,
      `use one of ${BUILT_IN_SCENARIOS.join(', ')}, the path of a scenario module, or a *.k6.ts script with --engine k6`);
  }
  return path;
}

/** Imports a scenario module and checks its default export is a declaration (exit 2 naming the file). */
export async function loadScenarioModule(path: string): Promise<ScenarioDefinition> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (cause) {
    throw errors.SLO_ERR_SCENARIO_UNKNOWN(`cannot load scenario module ${path}: ${(cause as Error).message.split('\n')[0]}`,
      'a scenario module default-exports defineScenario({ name, plan, requests }); a k6 script must be named *.k6.ts and run with --engine k6', { cause });
  }
  const definition = module.default as Partial<ScenarioDefinition> | undefined;
  if (!definition || typeof definition.plan !== 'function' || typeof definition.requests !== 'function' || typeof definition.name !== 'string') {
    throw errors.SLO_ERR_SCENARIO_UNKNOWN(`${path} does not default-export a scenario (defineScenario({ name, plan, requests }))`,
      'see scenarios/spike.ts for the shape; a k6 script must be named *.k6.ts and run with --engine k6');
  }
  return definition as ScenarioDefinition;
}

/** The plan and mix of one step, from a built-in name or a module path. */
export async function resolveStepScenario(nameOrPath: string, params: ScenarioParams): Promise<ResolvedScenario> {
  const definition = await loadScenarioModule(resolveScenario(nameOrPath));
  try {
    return resolveScenarioDefinition(definition, params);
  } catch (cause) {
    throw errors.SLO_ERR_SCENARIO_UNKNOWN(`scenario ${nameOrPath}: ${(cause as Error).message}`, 'fix the scenario module', { cause });
  }
}

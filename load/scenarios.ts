// Built-in scenario names -> k6 scripts, and the env the scripts read. A name that is not built in is taken
// as the path of the user's own script (`--scenario ./my.ts`).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from '../contract/errors.ts';

import { BUILT_IN_SCENARIOS } from '../contract/names.ts';

export { BUILT_IN_SCENARIOS };

const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

/** Absolute path of a built-in scenario or of an existing user script (relative to `cwd`). */
export function resolveScenario(nameOrPath: string, cwd = process.cwd()): string {
  if ((BUILT_IN_SCENARIOS as readonly string[]).includes(nameOrPath)) return join(SCENARIO_DIR, `${nameOrPath}.ts`);
  const path = resolve(cwd, nameOrPath);
  if (!existsSync(path)) {
    throw errors.SLO_ERR_SCENARIO_UNKNOWN(`no scenario "${nameOrPath}" (not ${BUILT_IN_SCENARIOS.join(', ')}, and no file ${path})`,
      `use one of ${BUILT_IN_SCENARIOS.join(', ')} or the path of a k6 script`);
  }
  return path;
}

export interface ScenarioSettings {
  rateBase: number;
  ratePeak?: number;
  durationS: number;
  timeScale?: number;
  weights?: { read: number; write: number; cpu: number };
  cpuMs?: number;
}

/** The env of scenarios/lib/env.ts (BASE_URL and SLO_THRESHOLDS are added by runK6). */
export function scenarioEnv(s: ScenarioSettings): Record<string, string> {
  const env: Record<string, string> = { RATE_BASE: String(s.rateBase), DURATION_S: String(s.durationS) };
  if (s.ratePeak !== undefined) env.RATE_PEAK = String(s.ratePeak);
  if (s.timeScale !== undefined) env.TIME_SCALE = String(s.timeScale);
  if (s.weights) env.WEIGHTS = `read=${s.weights.read},write=${s.weights.write},cpu=${s.weights.cpu}`;
  if (s.cpuMs !== undefined) env.CPU_MS = String(s.cpuMs);
  return env;
}

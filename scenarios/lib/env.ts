// Scenario settings from the environment the harness sets (k6 exposes it as __ENV). Pure, so Node tests
// can check the parsing; a bad value throws with the variable's name instead of running a wrong load.
import { parseThresholds, type Thresholds } from './thresholds.ts';

export interface Weights {
  read: number;
  write: number;
  cpu: number;
}

export interface ScenarioEnv {
  baseUrl: string;
  timeScale: number;
  rateBase: number;
  ratePeak: number;
  durationS: number;
  weights: Weights;
  cpuMs: number;
  thresholds: Thresholds;
  /** Overrides of the VU sizing (tests use a tiny maxVUs to prove saturation is caught). */
  preAllocatedVUs?: number;
  maxVUs?: number;
}

function numberFrom(env: Record<string, string | undefined>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${raw} must be a number >= ${min}`);
  return value;
}

export function parseWeights(raw: string | undefined): Weights {
  const weights: Weights = { read: 70, write: 20, cpu: 10 };
  if (raw === undefined || raw.trim() === '') return weights;
  const seen: Weights = { read: 0, write: 0, cpu: 0 };
  for (const part of raw.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key !== 'read' && key !== 'write' && key !== 'cpu') throw new Error(`WEIGHTS: unknown kind "${key}" (read, write, cpu)`);
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`WEIGHTS: ${key}=${value} must be a number >= 0`);
    seen[key] = n;
  }
  if (seen.read + seen.write + seen.cpu <= 0) throw new Error('WEIGHTS: at least one weight must be above 0');
  return seen;
}

export function parseScenarioEnv(env: Record<string, string | undefined>): ScenarioEnv {
  const baseUrl = env.BASE_URL;
  if (!baseUrl) throw new Error('BASE_URL is required (e.g. http://127.0.0.1:8080)');
  const rateBase = numberFrom(env, 'RATE_BASE', 10, 0);
  const parsed: ScenarioEnv = {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    timeScale: numberFrom(env, 'TIME_SCALE', 1, 0.001),
    rateBase,
    ratePeak: numberFrom(env, 'RATE_PEAK', rateBase * 10, 0),
    durationS: numberFrom(env, 'DURATION_S', 60, 1),
    weights: parseWeights(env.WEIGHTS),
    cpuMs: numberFrom(env, 'CPU_MS', 20, 0),
    thresholds: parseThresholds(env.SLO_THRESHOLDS),
  };
  if (env.PRE_VUS) parsed.preAllocatedVUs = numberFrom(env, 'PRE_VUS', 1, 1);
  if (env.MAX_VUS) parsed.maxVUs = numberFrom(env, 'MAX_VUS', 1, 1);
  return parsed;
}

/** Picks read, write or cpu with probability proportional to its weight; `random` in [0, 1). */
export function pickKind(weights: Weights, random: number): keyof Weights {
  const total = weights.read + weights.write + weights.cpu;
  const x = random * total;
  if (x < weights.read) return 'read';
  if (x < weights.read + weights.write) return 'write';
  return weights.cpu > 0 ? 'cpu' : weights.write > 0 ? 'write' : 'read';
}

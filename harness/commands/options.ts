// Flag values as commander hands them over, and their validation into what the commands use. Every bad
// value becomes one SLO_ERR_CLI_USAGE line naming the flag and what is allowed, before anything is written.
import { existsSync } from 'node:fs';
import { errors } from '../../contract/errors.ts';
import { clusterAdapters, type ClusterName } from '../../clusters/index.ts';
import { ENGINE_NAMES, type EngineName } from '../../contract/names.ts';

export interface CommonOptions {
  cluster?: string;
  config?: string;
  profile?: string;
  out?: string;
  quiet?: boolean;
  app?: string;
  steps?: string;
  scenario?: string;
  baseline?: string;
  set?: string[];
  from?: string;
  to?: string;
  stepSeconds?: string;
  engine?: string;
  runners?: string;
}

/** `--engine`, else the spec's `load.engine`; an unknown name is one line naming the valid ones. */
export function parseEngineName(value: string | undefined, fromSpec: EngineName): EngineName {
  if (value === undefined) return fromSpec;
  if (!(ENGINE_NAMES as readonly string[]).includes(value)) {
    throw errors.SLO_ERR_CLI_USAGE(`--engine must be one of ${ENGINE_NAMES.join(', ')}, got "${value}"`);
  }
  return value as EngineName;
}

/** `--runners`, else the spec's `load.runners`: pods of the embedded engine (1: in the harness's process). */
export function parseRunners(value: string | undefined, fromSpec: number): number {
  if (value === undefined) return fromSpec;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50) throw errors.SLO_ERR_CLI_USAGE(`--runners must be an integer from 1 to 50, got "${value}"`);
  return n;
}

export function parseClusterName(value: string | undefined): ClusterName {
  const name = value ?? 'local';
  if (!Object.hasOwn(clusterAdapters, name)) {
    throw errors.SLO_ERR_CLUSTER_UNKNOWN(`--cluster must be one of ${Object.keys(clusterAdapters).join(', ')}, got "${name}"`);
  }
  return name as ClusterName;
}

export function parseSettings(pairs: readonly string[] | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw errors.SLO_ERR_CLI_USAGE(`--set takes key=value, got "${pair}"`, 'e.g. --set namespace=shop');
    settings[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return settings;
}

export function parseStepNames(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) throw errors.SLO_ERR_CLI_USAGE('--steps needs at least one step name', 'e.g. --steps growth,spike');
  return names;
}

export function parsePositiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw errors.SLO_ERR_CLI_USAGE(`${flag} must be a number > 0, got "${value}"`);
  return number;
}

export function requireExistingFile(flag: string, file: string | undefined): string | undefined {
  if (file !== undefined && !existsSync(file)) throw errors.SLO_ERR_CLI_USAGE(`${flag} file "${file}" does not exist`);
  return file;
}

export function isQuiet(options: CommonOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  return options.quiet === true || (env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false');
}

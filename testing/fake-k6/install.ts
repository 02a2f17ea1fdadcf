// Puts a fake `k6` executable into a folder: a shell wrapper that runs fake-k6.ts under Node with tsx. The k6
// engine starts k6 with a clean environment (PATH, HOME, K6_*, and the scenario's variables only), so the
// fake's behaviour is baked into the wrapper itself, never passed through the caller's environment.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How the fake behaves; each failure mode stands for a way a real k6 run goes wrong. */
export const FAKE_K6_MODES = ['normal', 'crash', 'malformed', 'no-output', 'thresholds'] as const;
export type FakeK6Mode = (typeof FAKE_K6_MODES)[number];

/** The variables the wrapper sets for fake-k6.ts (read nowhere else). */
export const FAKE_K6_ENV = {
  mode: 'FAKE_K6_MODE',
  /** A file the fake appends one JSON line to per invocation: { argv, env }. */
  record: 'FAKE_K6_RECORD',
  /** Milliseconds of "VU initialisation" before setup() runs (k6 initialises the pre-allocated VUs first). */
  initMs: 'FAKE_K6_INIT_MS',
} as const;

export interface FakeK6Options {
  mode?: FakeK6Mode;
  /** Where to put `k6`; a new temporary folder when absent. */
  dir?: string;
  record?: string;
  initMs?: number;
}

export interface FakeK6 {
  /** Absolute path of the `k6` wrapper. */
  path: string;
  dir: string;
}

export const FAKE_K6_SCRIPT = fileURLToPath(new URL('./fake-k6.ts', import.meta.url));

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function installFakeK6(options: FakeK6Options = {}): FakeK6 {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'slo-fake-k6-'));
  mkdirSync(dir, { recursive: true });
  // The tsx loader by absolute URL: `--import tsx` would resolve from the caller's working directory.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const settings: Array<[string, string]> = [[FAKE_K6_ENV.mode, options.mode ?? 'normal']];
  if (options.record) settings.push([FAKE_K6_ENV.record, options.record]);
  if (options.initMs !== undefined) settings.push([FAKE_K6_ENV.initMs, String(options.initMs)]);
  const path = join(dir, 'k6');
  writeFileSync(path, [
    '#!/bin/sh',
    '# A fake k6 for the harness tests (testing/fake-k6/fake-k6.ts): not k6. Settings are baked in here because',
    '# the k6 engine runs k6 with a clean environment.',
    ...settings.map(([name, value]) => `${name}=${shellQuote(value)}; export ${name}`),
    // exec: the k6 engine signals this very process (SIGINT to stop), so no shell may stand in between.
    `exec ${shellQuote(process.execPath)} --import ${shellQuote(tsx)} ${shellQuote(FAKE_K6_SCRIPT)} "$@"`,
    '',
  ].join('\n'));
  chmodSync(path, 0o755);
  return { path, dir };
}

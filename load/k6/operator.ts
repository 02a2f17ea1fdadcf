// Load beyond one machine: a k6-operator TestRun (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/)
// running the same script on N runner pods, each on its own execution segment (1/N of the rate). The
// script travels as a `k6 archive` (the script plus its ./lib imports, one tar) in a ConfigMap. Per-second
// records of the runners merge with mergeLoadRecords (histograms, never averaged percentiles).
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';

export interface TestRunOptions {
  name: string;
  namespace: string;
  parallelism: number;
  /** The `k6 archive` tar of the script. */
  archive: Buffer;
  /** Scenario settings (BASE_URL, RATE_BASE, SLO_THRESHOLDS...), as for a local run. */
  env: Record<string, string>;
  /** Runner image; must carry k6 at the pinned version. */
  image?: string;
  /** Extra `k6 run` arguments, e.g. an --out for collecting samples. */
  arguments?: string;
  resources?: { cpu: string; memory: string };
}

export const ARCHIVE_FILE = 'archive.tar';

export interface K6OperatorManifests {
  configMap: Record<string, unknown>;
  testRun: Record<string, unknown>;
}

export function k6OperatorManifests(o: TestRunOptions): K6OperatorManifests {
  if (!Number.isInteger(o.parallelism) || o.parallelism < 1) throw new Error(`parallelism must be a positive integer, got ${o.parallelism}`);
  const labels = { 'app.kubernetes.io/managed-by': 'slo-harness', 'slo-harness/test-run': o.name };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${o.name}-script`, namespace: o.namespace, labels },
    binaryData: { [ARCHIVE_FILE]: o.archive.toString('base64') },
  };
  const runner: Record<string, unknown> = {
    image: o.image ?? 'grafana/k6:1.8.1',
    env: Object.entries(o.env).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    metadata: { labels },
  };
  if (o.resources) runner.resources = { requests: o.resources, limits: o.resources };
  const spec: Record<string, unknown> = {
    parallelism: o.parallelism,
    script: { configMap: { name: `${o.name}-script`, file: ARCHIVE_FILE } },
    // Runner pods go when the test ends; the harness has read what it needs by then.
    cleanup: 'post',
    runner,
  };
  if (o.arguments) spec.arguments = o.arguments;
  const testRun = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: o.name, namespace: o.namespace, labels }, spec };
  return { configMap, testRun };
}

/** Both manifests as one multi-document YAML, ready for `kubectl apply -f -`. */
export function k6OperatorYaml(o: TestRunOptions): string {
  const { configMap, testRun } = k6OperatorManifests(o);
  return `${stringify(configMap)}---\n${stringify(testRun)}`;
}

/**
 * Packs a script and its local imports with `k6 archive` (k6's own bundling, nothing re-implemented). The
 * script's init code runs at archive time and the archive keeps the options it computed, so `env` must be
 * the same settings the runners get.
 */
export async function archiveScript(k6Path: string, script: string, outFile: string, env: Record<string, string> = {}): Promise<Buffer> {
  const flags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await execa(k6Path, ['archive', ...flags, script, '-O', outFile], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', K6_NO_USAGE_REPORT: 'true' },
    extendEnv: false,
    timeout: 60_000,
  });
  return readFile(outFile);
}

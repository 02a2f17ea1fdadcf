// --runners N / load.runners: validated before anything is started or written (exit 2).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSloError } from '../../contract/errors.ts';
import { parseRunners } from './options.ts';
import { prepareRun } from './run.ts';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isSloError(error)) return `${error.exitCode} ${error.oneLine()}`;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('--runners', () => {
  it('is an integer from 1 to 50; the spec\'s load.runners when absent', () => {
    expect(parseRunners(undefined, 2)).toBe(2);
    expect(parseRunners('3', 1)).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'x', '51']) expect(() => parseRunners(bad, 1)).toThrow(/--runners must be an integer from 1 to 50/);
  });

  it('needs a Kubernetes target and the embedded engine', async () => {
    expect(await refusal(prepareRun({ cluster: 'url', set: ['serviceUrl=http://127.0.0.1:9'], runners: '3' }))).toMatch(/^2 SLO_ERR_CLI_USAGE: --runners 3 runs the load as pods of a Kubernetes Job; --cluster url has no Kubernetes/);
    expect(await refusal(prepareRun({ cluster: 'embedded', runners: '2', engine: 'k6' }))).toMatch(/^2 SLO_ERR_CLI_USAGE: --runners 2 runs pods of the embedded engine; the k6 engine/);
    expect(await refusal(prepareRun({ cluster: 'embedded', runners: '0' }))).toMatch(/^2 SLO_ERR_CLI_USAGE: --runners must be/);
  });

  it('comes from the spec, with where the runner pods go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slo-runners-spec-'));
    try {
      const spec = join(dir, 'slo.yaml');
      writeFileSync(spec, 'version: 1\nload:\n  runners: 3\n  runnerPods:\n    namespace: load\n    nodeSelector: { pool: load }\n    resources: { requests: { cpu: 500m } }\n');
      const prepared = await prepareRun({ cluster: 'embedded', config: spec, set: ['runnerStartS=12'] });
      expect(prepared.runners).toBe(3);
      expect(prepared.runnerStartS).toBe(12);
      expect(prepared.spec.load.runnerPods).toEqual({ namespace: 'load', nodeSelector: { pool: 'load' }, resources: { requests: { cpu: '500m' } } });
      expect(await refusal(prepareRun({ cluster: 'url', set: ['serviceUrl=http://127.0.0.1:9'], config: spec }))).toMatch(/load\.runners 3 runs the load as pods/);
      writeFileSync(spec, 'version: 1\nload:\n  runners: 0\n  runnerPods: { namespace: Bad_NS }\n');
      expect(await refusal(prepareRun({ cluster: 'embedded', config: spec }))).toMatch(/load\.runners: runners must be an integer from 1 to 50.*load\.runnerPods\.namespace: namespace must be a Kubernetes namespace name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The k6-operator manifests, and the `k6 archive` they carry, made with the FAKE k6 (testing/fake-k6/): k6 is
// AGPL-3.0 and never runs here. The fake packs an archive as k6 v1.x lays it out (metadata.json with the
// resolved options, `data`, `file/<path>` per local module) and reads it back with `k6 inspect`, so the test
// checks what archiveScript passes to k6 and what a runner pod would mount, not k6's own bundling.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SCENARIO_JSON_ENV } from '../../scenarios/lib/k6-env.ts';
import { resolveScenarioDefinition } from '../../scenarios/lib/scenario.ts';
import spike from '../../scenarios/spike.ts';
import { installFakeK6 } from '../../testing/fake-k6/install.ts';
import { K6_ENTRY } from './engine.ts';
import { ARCHIVE_FILE, archiveScript, k6OperatorManifests, k6OperatorYaml } from './operator.ts';

describe('k6-operator TestRun', () => {
  it('packs the generic script with its imports into a ConfigMap that a TestRun of N runners points at', async () => {
    const k6 = installFakeK6().path;
    const dir = mkdtempSync(join(tmpdir(), 'slo-operator-'));
    const scenario = resolveScenarioDefinition(spike, { rateBase: 50, ratePeak: 500, durationS: 60, timeScale: 1, weights: { read: 60, write: 30, cpu: 10 }, cpuMs: 5 });
    const env = { BASE_URL: 'http://app.shop.svc:8080', [SCENARIO_JSON_ENV]: JSON.stringify(scenario) };
    const archive = await archiveScript(k6, K6_ENTRY, join(dir, 'spike.tar'), env);
    // The tar holds the script and its local imports.
    const listing = execFileSync('tar', ['-tf', join(dir, 'spike.tar')], { encoding: 'utf8' });
    expect(listing).toMatch(/^metadata\.json$/m);
    expect(listing).toMatch(/scenarios\/k6\/entry\.ts$/m);
    expect(listing).toMatch(/scenarios\/lib\/plan\.ts$/m);
    expect(listing).toMatch(/contract\/names\.ts$/m);

    const yamlText = k6OperatorYaml({ name: 'slo-spike', namespace: 'load', parallelism: 4, archive, env, resources: { cpu: '1', memory: '512Mi' } });
    type Doc = { binaryData: Record<string, string>; spec: { runner: { env: unknown[] } } };
    const [configMap, testRun] = parseAllDocuments(yamlText).map((d) => d.toJS() as Doc);
    expect(configMap).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slo-spike-script', namespace: 'load' } });
    expect(testRun).toMatchObject({
      apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'slo-spike', namespace: 'load' },
      spec: { parallelism: 4, script: { configMap: { name: 'slo-spike-script', file: ARCHIVE_FILE } }, runner: { resources: { limits: { cpu: '1' } } } },
    });
    expect(testRun?.spec.runner.env).toContainEqual({ name: 'BASE_URL', value: 'http://app.shop.svc:8080' });

    // What a runner pod would mount: the archive from the ConfigMap, its options intact.
    const mounted = join(dir, ARCHIVE_FILE);
    writeFileSync(mounted, Buffer.from(configMap?.binaryData[ARCHIVE_FILE] ?? '', 'base64'));
    const inspected = JSON.parse(execFileSync(k6, ['inspect', '--execution-requirements', mounted], { encoding: 'utf8' })) as { scenarios: Record<string, { executor: string; startRate: number }> };
    expect(inspected.scenarios.spike).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 50 });
  });

  it('refuses a parallelism that is not a positive integer', () => {
    expect(() => k6OperatorManifests({ name: 'x', namespace: 'y', parallelism: 0, archive: Buffer.from(''), env: {} })).toThrow(/parallelism/);
  });
});

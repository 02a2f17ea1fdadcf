import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureK6 } from './locate.ts';
import { ARCHIVE_FILE, archiveScript, k6OperatorManifests, k6OperatorYaml } from './operator.ts';

const SCENARIOS = resolve(import.meta.dirname, '..', 'scenarios');

describe('k6-operator TestRun', () => {
  it('packs a scenario with its imports into a ConfigMap that a TestRun of N runners points at', async () => {
    const k6 = await ensureK6();
    const dir = mkdtempSync(join(tmpdir(), 'slo-operator-'));
    const env = { BASE_URL: 'http://app.shop.svc:8080', RATE_BASE: '50', DURATION_S: '60' };
    const archive = await archiveScript(k6, join(SCENARIOS, 'spike.ts'), join(dir, 'spike.tar'), env);
    // The tar holds the script and its ./lib imports, and k6 itself can load it back.
    const listing = execFileSync('tar', ['-tf', join(dir, 'spike.tar')], { encoding: 'utf8' });
    expect(listing).toMatch(/spike\.ts/);
    expect(listing).toMatch(/lib\/plan\.ts/);

    const yamlText = k6OperatorYaml({ name: 'slo-spike', namespace: 'load', parallelism: 4, archive, env, resources: { cpu: '1', memory: '512Mi' } });
    type Doc = { binaryData: Record<string, string>; spec: { runner: { env: unknown[] } } };
    const [configMap, testRun] = parseAllDocuments(yamlText).map((d) => d.toJS() as Doc);
    expect(configMap).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slo-spike-script', namespace: 'load' } });
    expect(testRun).toMatchObject({
      apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'slo-spike', namespace: 'load' },
      spec: { parallelism: 4, script: { configMap: { name: 'slo-spike-script', file: ARCHIVE_FILE } }, runner: { resources: { limits: { cpu: '1' } } } },
    });
    expect(testRun!.spec.runner.env).toContainEqual({ name: 'RATE_BASE', value: '50' });

    // What a runner pod would mount: the archive from the ConfigMap, runnable by k6.
    const mounted = join(dir, ARCHIVE_FILE);
    writeFileSync(mounted, Buffer.from(configMap!.binaryData[ARCHIVE_FILE] ?? '', 'base64'));
    const inspected = JSON.parse(execFileSync(k6, ['inspect', '--execution-requirements', mounted], { encoding: 'utf8' })) as { scenarios: Record<string, { executor: string; startRate: number }> };
    expect(inspected.scenarios.spike).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 50 });
  });

  it('refuses a parallelism that is not a positive integer', () => {
    expect(() => k6OperatorManifests({ name: 'x', namespace: 'y', parallelism: 0, archive: Buffer.from(''), env: {} })).toThrow(/parallelism/);
  });
});

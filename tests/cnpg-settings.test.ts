// The embedded target's database settings (`--set database=`, `--set failoverMode=`) are checked before anything happens: a wrong value is one line and
// exit 2, with no run folder and no cluster (the CloudNativePG run itself: tests/cnpg-failover.e2e.test.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/slo-run.ts';
import { EmbeddedCluster } from '../clusters/embedded/index.ts';
import type { ClusterContext } from '../clusters/types.ts';

const out = mkdtempSync(join(tmpdir(), 'slo-cnpg-settings-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the embedded target\'s database setting', () => {
  it.each([
    [['run', '--set', 'database=patroni'], /^SLO_ERR_CLI_USAGE: --set database=patroni: the embedded cluster runs PostgreSQL with CloudNativePG only \(drop --set database/],
    [['up', '--set', 'failoverMode=switchover'], /^SLO_ERR_CLI_USAGE: --set failoverMode=switchover: must be one of promote, delete-primary$/],
    [['run', '--set', 'database=cnpg', '--set', 'failoverMode=none'], /^SLO_ERR_CLI_USAGE: --set failoverMode=none: must be one of promote, delete-primary$/],
    [['up', '--set', 'databaseInstances=4'], /^SLO_ERR_CLI_USAGE: --set databaseInstances=4: must be a whole number from 1 to 3 \(/],
    // The default suite has a failover step: one instance has nothing to fail over to.
    [['run', '--set', 'databaseInstances=1'], /^SLO_ERR_CLI_USAGE: --set databaseInstances=1: the suite has a failover step, and a single instance has no standby to fail over to \(/],
  ])('%j: one line, exit 2, nothing written', async (args, line) => {
    const result = await execa(process.execPath, [join(ROOT, 'bin', 'slo.js'), ...args, '--cluster', 'local', '--out', join(out, 'runs')], { reject: false, cwd: ROOT, env: { CI: '' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(line);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'runs'))).toBe(false);
  });
});

describe('databaseInstances, as the embedded adapter reads it', () => {
  const ctx = {} as ClusterContext; // not used before up()
  it('accepts 1 to 3 (as --set passes it: a string) and refuses a failover only with a single instance', () => {
    const single = new EmbeddedCluster(ctx, { settings: { databaseInstances: '1' } });
    expect(() => single.refuseActions(['rollout', 'kill', 'scale'])).not.toThrow();
    expect(() => single.refuseActions(['failover'])).toThrow(/single instance has no standby/);
    expect(() => new EmbeddedCluster(ctx, { settings: { databaseInstances: '2' } }).refuseActions(['failover'])).not.toThrow();
    expect(() => new EmbeddedCluster(ctx, {}).refuseActions(['failover'])).not.toThrow();
    expect(() => new EmbeddedCluster(ctx, { settings: { databaseInstances: '1.5' } })).toThrow(/whole number from 1 to 3/);
  });
});

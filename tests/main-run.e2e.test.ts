// The README's main command, end to end, as a new user runs it: `slo run` with no flags on the local target
// (a real single-node Kubernetes, the reference service, CloudNativePG, the embedded load engine), about eight minutes. Behind
// `npm run test:e2e`. It asserts what must hold on any machine: a valid, completed run, all four reports,
// an exit code that matches the verdicts, and the fault verdicts that do not depend on the machine's speed.
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const out = mkdtempSync(join(tmpdir(), 'slo-main-run-'));
afterAll(() => {
  // mkdtemp makes the folder 0700, closed to the postgres user: the database data went to a linked folder.
  for (const run of existsSync(out) ? readdirSync(out) : []) {
    const db = join(out, run, 'db');
    if (existsSync(db)) rmSync(realpathSync(db), { recursive: true, force: true });
  }
  rmSync(out, { recursive: true, force: true });
});

it('slo run with no flags (in a folder closed to the postgres user): a completed quick run, four reports, an exit code that matches the verdicts', async () => {
  const result = await execa(process.execPath, [join(ROOT, 'bin', 'slo.js'), 'run', '--out', out, '--quiet'], { cwd: ROOT, reject: false, env: { CI: '' } });
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { result: string; exitCode: number; runDir: string; failed: string[] };
  expect([0, 1], result.stderr + result.stdout).toContain(result.exitCode);
  expect(summary.exitCode).toBe(result.exitCode);
  expect(summary.result).toBe(result.exitCode === 0 ? 'PASS' : 'FAIL');
  const [runDir] = readdirSync(out).map((name) => join(out, name));
  for (const file of ['report.json', 'junit.xml', 'report.md', 'report.html']) expect(existsSync(join(runDir!, file)), file).toBe(true);
  const report = JSON.parse(readFileSync(join(runDir!, 'report.json'), 'utf8')) as { run: { status: string; steps: string[] }; verdicts: Array<{ id: string; status: string }> };
  expect(report.run.status).toBe('completed');
  expect(report.run.steps).toEqual(['growth', 'rollout', 'spike', 'failover']);
  const status = (id: string) => report.verdicts.find((v) => v.id === id)?.status;
  // Properties of the service and the faults, not of the machine's speed.
  for (const id of ['run.completed', 'failover.lostWrites', 'failover.recovery', 'rollout.failedRequests', 'rollout.versionSwitch', 'selfHealing.replace', 'observability.traces', 'observability.metrics', 'observability.logs']) {
    expect(status(id), id).toBe('pass');
  }
}, 900_000);

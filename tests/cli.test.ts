// Whole-command tests: the real `slo` binary in a child process, its stdout, stderr and exit code, as a user
// or a CI job sees them. Runs point the `url` target at the stand-in service started here (no cluster, no
// database, a few seconds of load from the embedded engine), so each finishes in seconds. What a cluster
// adds (bring-up, actions, the HPA, `slo up` and `slo down`, reaping after a killed harness) is tested on
// the real Kubernetes cluster: tests/embedded-cluster.test.ts, tests/rollout-on-kubernetes.test.ts,
// tests/runners-embedded.test.ts and the e2e suite.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandInService, type StandInService } from '../testing/stand-in-service.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SLO = join(ROOT, 'bin', 'slo.js');
const TINY = join(ROOT, 'tests', 'fixtures', 'tiny.yaml');
const K6_SCRIPT = join(ROOT, 'tests', 'fixtures', 'mine.k6.ts');
const work = mkdtempSync(join(tmpdir(), 'slo-cli-'));
// The service under test: `GET /api/cpu?ms=N` sleeps N ms, /ready and /metrics as the reference service's.
let service: StandInService;
beforeAll(async () => { service = await startStandInService(); });
afterAll(async () => {
  await service?.close();
  rmSync(work, { recursive: true, force: true });
});

const URL_TARGET = () => ['--cluster', 'url', '--set', `serviceUrl=${service.baseUrl}`];

function slo(args: string[], options: { out?: string } = {}): ResultPromise<{ reject: false; cwd: string; env: Record<string, string> }> {
  return execa(process.execPath, [SLO, ...args, ...(options.out ? ['--out', options.out] : [])], {
    reject: false, cwd: ROOT, env: { CI: '', SLO_DEBUG: '' },
  });
}

function runDirs(out: string): string[] {
  return existsSync(out) ? readdirSync(out).map((name) => join(out, name)) : [];
}

describe('refused before anything starts: one line naming the problem, nothing written', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown cluster', ['run', '--cluster', 'nope'], /^SLO_ERR_CLUSTER_UNKNOWN: --cluster must be one of local, embedded, kind, kube, url, got "nope"/],
    ['unknown flag', ['run', '--bogus'], /^SLO_ERR_CLI_USAGE: unknown option '--bogus'/],
    ['unknown step', ['run', '--config', TINY, '--profile', 'tiny', '--steps', 'nope'], /^SLO_ERR_STEP_UNKNOWN: .*"nope".*valid steps: steady/],
    ['unknown profile', ['run', '--profile', 'fast'], /^SLO_ERR_CLI_USAGE: unknown profile "fast"; valid profiles: quick, full/],
    ['missing spec', ['run', '--config', 'nope.yaml'], /^SLO_ERR_SPEC_NOT_FOUND: --config file "nope.yaml" does not exist/],
    ['--app on kube', ['run', '--cluster', 'kube', '--app', 'node x.js'], /^SLO_ERR_CLI_USAGE: --app only applies to --cluster local or embedded, not kube \(on kind or kube, deploy your service and pass --set serviceUrl=/],
    ['--app on the url target', ['run', '--cluster', 'url', '--app', 'node x.js'], /^SLO_ERR_CLI_USAGE: --app only applies to --cluster local or embedded, not url/],
    ['the url target without its address', ['run', '--cluster', 'url'], /^SLO_ERR_CLI_USAGE: --cluster url needs the service's address \(add --set serviceUrl=http:\/\/host:port/],
    ['the url target with a bad address', ['run', '--cluster', 'url', '--set', 'serviceUrl=ftp://example.com'], /^SLO_ERR_CLI_USAGE: --set serviceUrl=ftp:\/\/example\.com: only http and https/],
    ['an action the url target cannot carry out', ['run', '--cluster', 'url', '--set', 'serviceUrl=http://127.0.0.1:9', '--config', join(ROOT, 'tests', 'fixtures', 'rollout-only.yaml'), '--profile', 'check'], /^SLO_ERR_ACTION_UNSUPPORTED: step "\S+" asks for "rollout", which the url target cannot do/],
    ['missing run folder', ['verify', '/nonexistent/run'], /^SLO_ERR_RUN_DIR_INVALID: /],
    ['missing image tarball on embedded', ['run', '--cluster', 'embedded', '--set', 'image=/nonexistent/app.tar'], /^SLO_ERR_CLI_USAGE: --set image=\/nonexistent\/app\.tar: no such image tarball/],
    ['--app and an image on embedded', ['run', '--cluster', 'embedded', '--app', 'node x.js', '--set', `image=${TINY}`], /^SLO_ERR_CLI_USAGE: --app and --set image= both name the service to run/],
    ['unknown engine', ['run', '--engine', 'jmeter'], /^SLO_ERR_CLI_USAGE: --engine must be one of embedded, k6, got "jmeter"/],
    ['a k6 script on the embedded engine', ['run', '--config', TINY, '--profile', 'tiny', '--scenario', K6_SCRIPT], /^SLO_ERR_CLI_USAGE: step "steady": .*mine\.k6\.ts is a k6 script, which only the k6 engine runs \(add --engine k6/],
    ['a module that declares no scenario', ['run', '--config', TINY, '--profile', 'tiny', '--scenario', 'scenarios/lib/plan.ts'], /^SLO_ERR_SCENARIO_UNKNOWN: .*does not default-export a scenario/],
  ];
  it.each(cases)('%s', async (_name, args, expected) => {
    const out = join(work, `bad-${_name.replace(/\W+/g, '-')}`);
    const result = await slo(args, { out: args[0] === 'run' ? out : undefined });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('a step that expects scaling on the url target (no replicas to see): exit 2, one line, nothing written', async () => {
    const spike = join(work, 'url-spike.yaml');
    writeFileSync(spike, readFileSync(TINY, 'utf8').replace('scenario: sustained', 'scenario: spike'));
    const out = join(work, 'url-spike');
    const result = await slo(['run', '--config', spike, '--profile', 'tiny', '--cluster', 'url', '--set', 'serviceUrl=http://127.0.0.1:9'], { out });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(/^SLO_ERR_SPEC_UNSHOWABLE: step "steady" expects scaling, which the url target cannot observe \(no replicas\) \(add "expect: \[\]" to the step/);
    expect(existsSync(out)).toBe(false);
    // Saying so in the step is enough: the same spec with `expect: []` gets past every input check.
    writeFileSync(spike, readFileSync(spike, 'utf8').replace('      actions: []', '      actions: []\n      expect: []'));
    const accepted = await slo(['run', '--config', spike, '--profile', 'tiny', '--cluster', 'url', '--set', 'serviceUrl=http://127.0.0.1:9', '--set', 'readyTimeoutS=1'], { out });
    expect(accepted.stderr).toMatch(/SLO_ERR_ENV_TIMEOUT: http:\/\/127\.0\.0\.1:9\/ready did not answer 2xx/);
    expect(accepted.exitCode).toBe(3);
  });

  it('a target whose tools are missing: exit 3, one line saying what to install, nothing written', async () => {
    const out = join(work, 'no-kind');
    const result = await execa(process.execPath, [SLO, 'run', '--cluster', 'kind', '--out', out], {
      reject: false, cwd: ROOT, env: { CI: '', PATH: '/nonexistent' }, extendEnv: false,
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^SLO_ERR_ENV_MISSING_TOOL: the kind cluster needs docker, kind, kubectl on PATH \(.*install kind/);
    expect(existsSync(out)).toBe(false);
  });

  it('--engine k6 without k6 on PATH: exit 3, one line saying how to install k6, nothing written', async () => {
    const out = join(work, 'no-k6');
    const result = await execa(process.execPath, [SLO, 'run', '--config', TINY, '--profile', 'tiny', '--engine', 'k6', ...URL_TARGET(), '--out', out], {
      reject: false, cwd: ROOT, env: { CI: '', PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }, extendEnv: false,
    });
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr.trim().split('\n').filter((line) => line.startsWith('SLO_ERR_'))).toEqual([
      expect.stringMatching(/^SLO_ERR_ENV_MISSING_TOOL: --engine k6: no k6 on PATH \(install k6 v1\.x/),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('reports every spec problem with its path in one line', async () => {
    const spec = join(work, 'bad.yaml');
    writeFileSync(spec, 'version: 1\nslos:\n  latency: { p95Ms: -5, windowS: 30 }\n  errorRat: { maxPercent: 1 }\n');
    const out = join(work, 'bad-spec');
    const result = await slo(['run', '--config', spec], { out });
    expect(result.exitCode).toBe(2);
    const line = result.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^SLO_ERR_SPEC_INVALID: /);
    expect(line).toContain('slos.latency.p95Ms');
    expect(line).toContain('errorRat');
    expect(existsSync(out)).toBe(false);
  });
});

describe('steps that cannot show what they are judged on: refused before any load, one line naming the step and the fix', () => {
  const tiny = readFileSync(TINY, 'utf8');
  const specFile = (name: string, text: string): string => {
    const file = join(work, name);
    writeFileSync(file, text);
    return file;
  };
  // tiny's one step: 10 req/s of 1 ms cpu requests for 6 s.
  const lightSpike = () => specFile('unshowable-scaling.yaml', tiny.replace('      actions: []', '      actions: []\n      expect: [scaling]'));
  const lateRollout = () => specFile('unshowable-rollout.yaml', tiny.replace('actions: []', 'actions: [{ at: 0.5, do: rollout, version: "1.1.0" }]'));

  it.each([
    ['a scaling expectation on a step too light to reach max replicas', lightSpike,
      /^SLO_ERR_SPEC_UNSHOWABLE: \S*unshowable-scaling\.yaml: step "steady": peak CPU demand 10 ms\/s at the tiny profile .*cannot hold 20 replicas .*: raise rates\.peak to >= 840 or cpuMs to >= 84, or lower slos\.scaling\.max/],
    ['a rollout too late in its step to complete and be seen', lateRollout,
      /^SLO_ERR_SPEC_UNSHOWABLE: \S*unshowable-rollout\.yaml: step "steady": a rollout of 3 replicas needs ~25 s \(3 x 5 s \+ 10 s to see the version\) but the step has 3 s left after it at the tiny profile: make durationS >= 50/],
  ])('%s: exit 2, nothing written', async (_name, spec, expected) => {
    const out = join(work, `unshowable-${_name.replace(/\W+/g, '-')}`);
    // On the embedded cluster, which can carry out a rollout: the check of what the steps can show comes first.
    const result = await slo(['run', '--config', spec(), '--profile', 'tiny', '--cluster', 'embedded'], { out });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('judges only the steps selected: --steps without the late rollout gets past the check', async () => {
    const spec = specFile('unshowable-two-steps.yaml', tiny.replace('suite:\n  steps:\n', [
      'suite:', '  steps:',
      '    - { name: late, scenario: sustained, durationS: 6, rates: { base: 10, peak: 10 }, actions: [{ at: 0.5, do: rollout, version: "1.1.0" }] }', '',
    ].join('\n')));
    // On kind without docker or kind on PATH: the first thing after the input checks stops the run (exit 3).
    const run = (extra: string[], out: string) => execa(process.execPath, [SLO, 'run', '--config', spec, '--profile', 'tiny', '--cluster', 'kind', ...extra, '--out', out], {
      reject: false, cwd: ROOT, env: { CI: '', PATH: '/nonexistent' }, extendEnv: false,
    });
    const all = await run([], join(work, 'two-steps-all'));
    expect(all.exitCode, all.stderr).toBe(2);
    expect(all.stderr.trim()).toMatch(/^SLO_ERR_SPEC_UNSHOWABLE: \S+: step "late": a rollout of 3 replicas/);
    const selected = await run(['--steps', 'steady'], join(work, 'two-steps-selected'));
    expect(selected.exitCode, selected.stderr).toBe(3);
    expect(selected.stderr.trim()).toMatch(/^SLO_ERR_ENV_MISSING_TOOL: /);
    expect(existsSync(join(work, 'two-steps-all'))).toBe(false);
    expect(existsSync(join(work, 'two-steps-selected'))).toBe(false);
  });
});

describe('runs against a service at a URL', () => {
  let passedRun = '';

  it('exit 0 when every SLO holds, with all four reports', async () => {
    const out = join(work, 'pass');
    const result = await slo(['run', '--config', TINY, '--profile', 'tiny', ...URL_TARGET()], { out });
    expect(result.stderr).not.toContain('SLO_ERR_');
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS: /m);
    const [runDir] = runDirs(out);
    for (const file of ['report.json', 'junit.xml', 'report.md', 'report.html', 'timeline.jsonl', 'run.json']) {
      expect(existsSync(join(runDir!, file)), file).toBe(true);
    }
    const report = JSON.parse(readFileSync(join(runDir!, 'report.json'), 'utf8')) as { status: string; run: { status: string } };
    expect(report.run.status).toBe('completed');
    // The load reached the service: about 10 requests/s for 6 s, each counted by the service itself.
    expect(service.counts().byName['GET /api/cpu']).toBeGreaterThanOrEqual(50);
    passedRun = runDir!;
  });

  it('slo verify re-judges the stored run against a changed spec, without any cluster', async () => {
    expect(passedRun).not.toBe('');
    const strict = join(work, 'strict-verify.yaml');
    writeFileSync(strict, readFileSync(TINY, 'utf8').replace('observability:', 'latency: { p95Ms: 0.01, windowS: 30 }\n  observability:'));
    const rejudged = await slo(['verify', passedRun, '--config', strict, '--quiet']);
    expect(rejudged.exitCode, rejudged.stderr).toBe(1);
    expect((JSON.parse(rejudged.stdout.trim()) as { failed: string[] }).failed).toContain('latency.p95');
    const report = JSON.parse(readFileSync(join(passedRun, 'report.json'), 'utf8')) as { verdicts: Array<{ id: string; status: string }> };
    expect(report.verdicts.find((v) => v.id === 'latency.p95')?.status).toBe('fail');
    // Without --config the spec stored with the run applies again, and it passes as before.
    const again = await slo(['verify', passedRun, '--quiet']);
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it('slo verify applies no check of what the steps can show: a stored run is re-judged as it ran', async () => {
    expect(passedRun).not.toBe('');
    // The same run judged as if its step expected scaling: `slo run` would refuse that spec up front.
    const scaling = join(work, 'verify-scaling.yaml');
    writeFileSync(scaling, readFileSync(TINY, 'utf8').replace('      actions: []', '      actions: []\n      expect: [scaling]'));
    const rejudged = await slo(['verify', passedRun, '--config', scaling, '--quiet']);
    expect(rejudged.stderr).not.toMatch(/SLO_ERR_/);
    expect(rejudged.exitCode, rejudged.stderr).toBe(1);
    expect((JSON.parse(rejudged.stdout.trim()) as { failed: string[] }).failed).toEqual(expect.arrayContaining([expect.stringMatching(/^scaling\./)]));
    const again = await slo(['verify', passedRun, '--quiet']);
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it('slo capacity steps the rate up and reports the highest that held', async () => {
    const out = join(work, 'capacity');
    const result = await slo(['capacity', '--config', TINY, '--profile', 'tiny', '--from', '10', '--to', '40', '--step-seconds', '4', '--quiet', ...URL_TARGET()], { out });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.trim()) as { highestPassingRate: number; probes: Array<{ rate: number; outcome: string }> };
    expect(summary.probes.map((p) => p.rate)).toEqual([10, 20, 40]);
    expect(summary.probes.every((p) => p.outcome === 'pass')).toBe(true);
    expect(summary.highestPassingRate).toBe(40);
    // One run per timeline: the probes are steps of it.
    const [runDir] = runDirs(out);
    const lines = readFileSync(join(runDir!, 'timeline.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type?: string });
    expect(lines.filter((r) => r.type === 'run.start')).toHaveLength(1);
    expect(lines.filter((r) => r.type === 'run.end')).toHaveLength(1);
    expect(lines.filter((r) => r.type === 'step.start')).toHaveLength(3);
    const rejudged = await slo(['verify', runDir!, '--quiet']);
    expect(rejudged.stderr).not.toMatch(/SLO_ERR_/);
  }, 120_000);

  it('exit 1 when an SLO fails: a p95 threshold the service cannot meet', async () => {
    const spec = join(work, 'strict.yaml');
    writeFileSync(spec, readFileSync(TINY, 'utf8').replace('cpuMs: 1', 'cpuMs: 30').replace("observability:", 'latency: { p95Ms: 20, windowS: 30 }\n  observability:'));
    const out = join(work, 'fail');
    const result = await slo(['run', '--config', spec, '--profile', 'tiny', '--quiet', ...URL_TARGET()], { out });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout.trim()) as { result: string; failed: string[] };
    expect(summary.result).toBe('FAIL');
    expect(summary.failed).toContain('latency.p95');
  });

  it('exit 3 when the environment breaks: the service never becomes ready, and the report says aborted', async () => {
    const out = join(work, 'broken');
    const nobody = await getPort(); // free: nothing listens there
    const result = await slo(['run', '--config', TINY, '--profile', 'tiny', '--cluster', 'url', '--set', `serviceUrl=http://127.0.0.1:${nobody}`, '--set', 'readyTimeoutS=2'], { out });
    expect(result.exitCode, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/^ABORTED: /m);
    expect(result.stderr).toMatch(new RegExp(`SLO_ERR_ENV_TIMEOUT: http://127\\.0\\.0\\.1:${nobody}/ready did not answer 2xx within 2 s \\(last: .*ECONNREFUSED`));
    const [runDir] = runDirs(out);
    const report = JSON.parse(readFileSync(join(runDir!, 'report.json'), 'utf8')) as { run: { status: string } };
    expect(report.run.status).toBe('aborted');
  });

  it('slo down of a run on the url target: nothing to reap, said so', async () => {
    expect(passedRun).not.toBe('');
    const down = await slo(['down', passedRun]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout.trim()).toBe('down: the url target leaves nothing on this machine to reap');
  });

  it('Ctrl-C tears everything down, writes the reports marked aborted, exit 3', async () => {
    const spec = join(work, 'long.yaml');
    writeFileSync(spec, readFileSync(TINY, 'utf8').replace('durationS: 6', 'durationS: 120'));
    const out = join(work, 'interrupted');
    const child = slo(['run', '--config', spec, '--profile', 'tiny', ...URL_TARGET()], { out });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await expect.poll(() => stderr, { timeout: 60_000, interval: 200 }).toMatch(/target up at/);
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stdout + stderr).toBe(3);
    const [runDir] = runDirs(out);
    const report = JSON.parse(readFileSync(join(runDir!, 'report.json'), 'utf8')) as { run: { status: string } };
    expect(report.run.status).toBe('aborted');
    // The engine's command line names its plan file in the run folder: nothing of this run may be left.
    const engineLeft = await execa('pgrep', ['-f', `--plan ${runDir!}`], { reject: false });
    expect(engineLeft.stdout.trim()).toBe('');
    expect(readdirSync(runDir!).some((f) => f.endsWith('.plan.json')), 'the engine really ran').toBe(true);
  }, 120_000);
});

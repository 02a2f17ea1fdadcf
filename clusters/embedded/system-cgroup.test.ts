// The node's programs' cgroup, for real (root only): a program moved in right after its start is in the
// group with what it forks afterwards; the step sets system.slice's weight and removes the
// group at teardown, ending what was left in it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { moveIntoCgroup, systemCgroupDir, systemCgroupStep, weightSetting } from './system-cgroup.ts';

const root = process.getuid?.() === 0;
const dir = systemCgroupDir().replace(/slo-embedded\.system$/, `slo-embedded.test-${process.pid}`);
const ctx = { log: () => undefined, signal: new AbortController().signal };
const step = systemCgroupStep(dir);
afterAll(async () => { await step.down(ctx); });

describe.runIf(root)('the node\'s programs\' cgroup', () => {
  it('starts a program inside the group (children too), at system.slice\'s weight, and removes the group at teardown', async () => {
    await step.up(ctx);
    const weight = weightSetting(dir);
    if (existsSync(weight.file)) expect(readFileSync(weight.file, 'utf8').trim()).toBe(weight.value);
    // A shell that later forks a sleep, as containerd forks its shims when asked.
    const child = spawn('/bin/sh', ['-c', 'sleep 0.2; sleep 30 & wait'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const pid = child.pid!;
    moveIntoCgroup(dir, pid);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const inGroup = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    expect(inGroup).toContain(pid);
    expect(inGroup).toHaveLength(2); // the program and the sleep it forked
    // Teardown with the processes still there: it ends them and removes the group.
    await step.down(ctx);
    expect(existsSync(dir)).toBe(false);
    await exited;
  }, 20_000);
});

// The node's own programs (etcd, the control plane, containerd and its shims, the kubelet, kube-proxy) in one
// CPU cgroup, as systemd puts them in system.slice on a real node. Left in the root cgroup, every busy
// daemon thread is a scheduling entity of its own beside the kubelet's whole `kubepods` tree (cgroup v1:
// weight 1024 each, against kubepods' 2048 for two cores). While a dozen pods start at once, the kubelet,
// containerd, runc, the API server and etcd are all busy, and took two thirds of the CPU from the replicas
// serving the spike that made the pods start (bench/RESULTS.md). In one group with system.slice's weight,
// the node's programs together get a third whenever the pods want the rest, and all of it when they do not.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../wait.ts';
import type { Step } from './steps.ts';

export const SYSTEM_CGROUP = 'slo-embedded.system';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where the group lives: the cpu hierarchy under cgroup v1, the unified tree under v2. */
export function systemCgroupDir(root = CGROUP_ROOT): string {
  const unified = existsSync(join(root, 'cgroup.controllers'));
  return unified ? join(root, SYSTEM_CGROUP) : join(root, 'cpu', SYSTEM_CGROUP);
}

/** The weight file and value of systemd's system.slice: cpu.shares 1024 (v1) or cpu.weight 100 (v2). */
export function weightSetting(dir: string): { file: string; value: string } {
  return dir.startsWith(join(CGROUP_ROOT, 'cpu') + '/') ? { file: join(dir, 'cpu.shares'), value: '1024' } : { file: join(dir, 'cpu.weight'), value: '100' };
}

/**
 * Moves a process that has just been started into the group, all its threads with it; what it forks from
 * then on (containerd's shims and runc) starts there too. Called right after spawn, before the daemon has
 * had a reason to fork anything.
 */
export function moveIntoCgroup(dir: string, pid: number): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

function members(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function systemCgroupStep(dir = systemCgroupDir()): Step {
  return {
    name: 'system-cgroup',
    async up(ctx) {
      mkdirSync(dir, { recursive: true });
      const weight = weightSetting(dir);
      // Under v2 the file exists only where the cpu controller is enabled; without it there is nothing to weigh.
      if (existsSync(weight.file)) writeFileSync(weight.file, weight.value);
      ctx.log(`embedded: the node's programs run in ${dir}`);
    },
    async down() {
      if (!existsSync(dir)) return;
      // Every daemon is stopped by now (this step is undone last); a shim may take a moment to exit.
      for (let attempt = 0; ; attempt += 1) {
        try {
          rmdirSync(dir);
          return;
        } catch (error) {
          if (attempt === 30) {
            // Only the node's own processes are ever put here: whatever is left is ours to end.
            for (const pid of members(dir)) {
              try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
            }
          }
          if (attempt >= 60) throw new Error(`cgroup ${dir} is still busy (pids ${members(dir).join(', ')}): ${(error as Error).message}`);
          await sleep(100);
        }
      }
    },
  };
}

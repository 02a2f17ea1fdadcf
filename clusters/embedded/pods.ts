// No step of its own on the way up; on the way down it removes everything the pods left, after the kubelet
// stopped (so nothing restarts them) and before containerd stops (so its tasks can still be killed):
// containers and sandboxes, their mounts and network namespaces, the bridge, the iptables chains, the
// cgroups. What the kubelet would have done pod by pod, done for the whole node at once.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { sleep } from '../wait.ts';
import { ctr } from './containerd.ts';
import { removeNodeChains } from './iptables.ts';
import type { Layout } from './layout.ts';
import { mountsUnder, readMounts } from './mounts.ts';
import type { RecordedNode } from './node-settings.ts';
import { listNetns } from './node-settings.ts';
import type { Step, StepContext } from './steps.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** cgroupfs driver, cgroup v1 or v2: the kubelet's tree is "kubepods" in every hierarchy. */
function kubepodsCgroups(): string[] {
  if (!existsSync(join(CGROUP_ROOT, 'kubepods')) && !existsSync(CGROUP_ROOT)) return [];
  const roots = existsSync(join(CGROUP_ROOT, 'cgroup.controllers')) ? [CGROUP_ROOT] : readdirSync(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h));
  return roots.map((root) => join(root, 'kubepods')).filter((dir) => existsSync(dir));
}

/** rmdir from the leaves up (a cgroup is removed with rmdir, never rm -r). */
function removeCgroupTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/**
 * crictl first: removing a pod sandbox through CRI runs the CNI DEL (addresses, masquerade rules, cached
 * results go), as the kubelet would. Then ctr kills whatever is left, which skips CNI (the rest of this
 * teardown removes the network leftovers).
 */
async function removeContainers(layout: Layout): Promise<number> {
  if (!existsSync(layout.containerdSock)) return 0;
  await execa(join(layout.binDir, 'crictl'), ['--runtime-endpoint', `unix://${layout.containerdSock}`, '--timeout', '30s', 'rmp', '--all', '--force'], { reject: false, timeout: 120_000 });
  const tasks = (await ctr(layout, ['tasks', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  for (const id of tasks) await ctr(layout, ['tasks', 'kill', '--signal', 'SIGKILL', id]);
  for (const id of tasks) {
    for (let i = 0; i < 20 && (await ctr(layout, ['tasks', 'delete', '--force', id])).exitCode !== 0; i++) await sleep(250);
  }
  const containers = (await ctr(layout, ['containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  for (const id of containers) await ctr(layout, ['containers', 'delete', id]);
  return containers.length;
}

export function podsCleanupStep(layout: Layout): Step {
  return {
    name: 'pods',
    async up() {
      // Nothing to start: pods are the kubelet's.
    },
    async down(ctx: StepContext) {
      const removed = await removeContainers(layout);
      if (removed > 0) ctx.log(`embedded: removed ${removed} containers and sandboxes`);

      for (const mount of mountsUnder(readMounts(), [layout.kubeletRoot])) {
        const result = await execa('umount', [mount], { reject: false });
        if (result.exitCode !== 0) await execa('umount', ['-l', mount], { reject: false });
      }
      if (mountsUnder(readMounts(), [layout.kubeletRoot]).length === 0) rmSync(layout.kubeletRoot, { recursive: true, force: true });
      rmSync(layout.podLogs, { recursive: true, force: true });

      // Network namespaces the CRI made for our sandboxes (those not there before the cluster).
      const before = new Set(existsSync(layout.recordedSysctls) ? (JSON.parse(readFileSync(layout.recordedSysctls, 'utf8')) as RecordedNode).netns : []);
      for (const name of listNetns().filter((n) => n.startsWith('cni-') && !before.has(n))) {
        await execa('umount', [join('/run/netns', name)], { reject: false });
        rmSync(join('/run/netns', name), { force: true });
      }
      await execa('ip', ['link', 'del', layout.bridge], { reject: false });
      for (const line of await removeNodeChains()) ctx.log(`embedded: removed ${line}`);

      // Processes leave a cgroup a moment after SIGKILL: retry briefly.
      for (const dir of kubepodsCgroups()) {
        for (let attempt = 0; ; attempt++) {
          try {
            removeCgroupTree(dir);
            break;
          } catch (error) {
            if (attempt >= 20) throw new Error(`cgroup ${dir} is still busy: ${(error as Error).message}`);
            await sleep(250);
          }
        }
      }
    },
  };
}

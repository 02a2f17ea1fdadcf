// The node's host-wide settings, recorded first so the teardown can put them back: kernel settings
// (sysctls.ts), mount propagation (the mount holding the state folder is made shared, so mounts made for
// pods propagate; the kubelet bind-mounts its own root rshared on top), and two guard routes.
//
// Only the mounts that hold our folders change, one by one (`--make-shared`, not `--make-rshared /`): a
// recursive change also reaches mounts stacked under others (/dev/shm here has two), which no path can
// address afterwards, so they could not be put back.
//
// The guard routes: the Service range and the pod range point at an empty bridge of ours (no ports, so what
// is routed there is dropped; this kernel has no dummy interfaces). A packet to a
// Service address that kube-proxy has not (yet) rewritten, or to a pod address before the bridge exists,
// would otherwise follow the default route off this machine; here it goes nowhere. More specific routes
// (the bridge's /24, kube-proxy's DNAT) still win.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import type { Layout } from './layout.ts';
import { isTopmost, mountOf, readMounts } from './mounts.ts';
import type { Step } from './steps.ts';
import { readSysctls, recordOnce, restoreSysctls } from './sysctls.ts';

export const GUARD_LINK = 'slo-guard';

export interface RecordedNode {
  sysctls: Record<string, string>;
  /** mount id -> mount point and propagation, for every mount that existed before. */
  mounts: Record<string, { mountPoint: string; propagation: string }>;
  /** Network namespaces in /run/netns before: the teardown removes only those added since. */
  netns: string[];
  /** Host folders our containerd and CNI create whatever their config says; removed if they were not there. */
  existed: Record<string, boolean>;
}

/**
 * Folders made whatever the configuration says: containerd 1.6 puts shim sockets in /run/containerd/s
 * and fifos in /run/containerd/fifo; the CRI plugin pins network namespaces in /run/netns; libcni caches
 * results in /var/lib/cni; the kubelet's device-plugin socket is always in /var/lib/kubelet/device-plugins
 * and its links to container logs in /var/log/containers (the logs themselves go to our podLogsDir).
 */
export const HOST_FOLDERS = ['/run/containerd', '/run/netns', '/var/lib/cni', '/var/lib/kubelet', '/var/log/containers', '/var/log/pods'] as const;

export function guardRoutes(layout: Layout): string[] {
  // The pod range as a /16 so the bridge's own /24 stays the more specific route.
  return [layout.serviceCidr, layout.podCidr.replace(/\/\d+$/, '/16')];
}

async function ip(args: string[], allowFail = false): Promise<void> {
  const result = await execa('ip', args, { reject: false, all: true });
  if (result.exitCode !== 0 && !allowFail) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`ip ${args.join(' ')} failed: ${(result.all ?? '').trim()}`);
}

function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function nodeSettingsStep(layout: Layout): Step {
  return {
    name: 'node-settings',
    async up() {
      mkdirSync(layout.stateDir, { recursive: true });
      recordOnce<RecordedNode>(layout.recordedSysctls, () => ({
        sysctls: readSysctls(),
        mounts: Object.fromEntries(readMounts().map((m) => [String(m.id), { mountPoint: m.mountPoint, propagation: m.propagation }])),
        netns: listNetns(),
        existed: Object.fromEntries(HOST_FOLDERS.map((dir) => [dir, existsSync(dir)])),
      }));
      const mounts = readMounts();
      const ours = new Set([layout.stateDir, layout.runDir].map((dir) => mountOf(mounts, dir)?.mountPoint).filter((m) => m !== undefined));
      for (const mountPoint of ours) await execa('mount', ['--make-shared', mountPoint]);
      await ip(['link', 'add', GUARD_LINK, 'type', 'bridge'], true);
      await ip(['link', 'set', GUARD_LINK, 'up']);
      for (const cidr of guardRoutes(layout)) await ip(['route', 'replace', cidr, 'dev', GUARD_LINK]);
    },
    async down(ctx) {
      await ip(['link', 'del', GUARD_LINK], true); // its routes go with it
      const recorded = recordOnce<RecordedNode | null>(layout.recordedSysctls, () => null);
      if (!recorded) return;
      const changed = restoreSysctls(recorded.sysctls);
      if (changed.length > 0) ctx.log(`embedded: kernel settings restored: ${changed.join(', ')}`);
      // The same mounts (by id) with another propagation than before; visible ones can be addressed.
      const mounts = readMounts();
      for (const mount of mounts) {
        const before = recorded.mounts[String(mount.id)]?.propagation;
        if (!before || before === mount.propagation || !isTopmost(mounts, mount)) continue;
        const flag = before === 'private' ? '--make-private' : before === 'slave' ? '--make-slave' : before === 'shared' ? '--make-shared' : undefined;
        if (flag) await execa('mount', [flag, mount.mountPoint], { reject: false });
      }
      for (const dir of HOST_FOLDERS) {
        if (recorded.existed[dir] === false) rmSync(dir, { recursive: true, force: true });
      }
      rmSync(layout.recordedSysctls, { force: true });
    },
  };
}

export { listNetns };

// The node's host-wide settings, recorded first so the teardown can put them back: kernel settings
// (sysctls.ts), mount propagation of / (the kubelet needs it shared: volume mounts must reach the
// containers), and two guard routes.
//
// The guard routes: the Service range and the pod range point at a dummy interface of ours. A packet to a
// Service address that kube-proxy has not (yet) rewritten, or to a pod address before the bridge exists,
// would otherwise follow the default route off this machine; here it goes nowhere. More specific routes
// (the bridge's /24, kube-proxy's DNAT) still win.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import type { Layout } from './layout.ts';
import { readMounts } from './mounts.ts';
import type { Step } from './steps.ts';
import { readSysctls, recordOnce, restoreSysctls } from './sysctls.ts';

export const GUARD_LINK = 'slo-guard';

export interface RecordedNode {
  sysctls: Record<string, string>;
  /** mount point -> propagation, for every mount that existed before. */
  propagation: Record<string, string>;
  /** Network namespaces in /run/netns before: the teardown removes only those added since. */
  netns: string[];
}

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
        propagation: Object.fromEntries(readMounts().map((m) => [m.mountPoint, m.propagation])),
        netns: listNetns(),
      }));
      await execa('mount', ['--make-rshared', '/']);
      await ip(['link', 'add', GUARD_LINK, 'type', 'dummy'], true);
      await ip(['link', 'set', GUARD_LINK, 'up']);
      for (const cidr of guardRoutes(layout)) await ip(['route', 'replace', cidr, 'dev', GUARD_LINK]);
    },
    async down(ctx) {
      await ip(['link', 'del', GUARD_LINK], true); // its routes go with it
      const recorded = recordOnce<RecordedNode | null>(layout.recordedSysctls, () => null);
      if (!recorded) return;
      const changed = restoreSysctls(recorded.sysctls);
      if (changed.length > 0) ctx.log(`embedded: kernel settings restored: ${changed.join(', ')}`);
      // Mounts that exist now and had another propagation before (make-rshared changed them all).
      for (const mount of readMounts()) {
        const before = recorded.propagation[mount.mountPoint];
        if (!before || before === mount.propagation) continue;
        const flag = before === 'private' ? '--make-private' : before === 'slave' ? '--make-slave' : before === 'shared' ? '--make-shared' : undefined;
        if (flag) await execa('mount', [flag, mount.mountPoint], { reject: false });
      }
      rmSync(layout.recordedSysctls, { force: true });
    },
  };
}

export { listNetns };

// containerd 1.6 (Debian's package) as the node's container runtime, private to this cluster: its own
// config, root, state folder and socket, so it neither sees nor disturbs another containerd on the machine.
// cgroupfs (runc's SystemdCgroup=false) because this machine has no systemd; overlayfs snapshots; the CNI
// bridge from Debian's containernetworking-plugins with a config of our own (cni.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cniConflist, CNI_CONFLIST_NAME } from './cni.ts';
import { daemonStep } from './daemon-step.ts';
import type { Layout } from './layout.ts';
import { readMounts, mountsUnder } from './mounts.ts';
import type { Step } from './steps.ts';

export const CONTAINERD_BINARY = '/usr/bin/containerd';
export const PAUSE_IMAGE = 'localhost/slo-embedded/pause:3.10.1';

export function containerdConfig(layout: Layout): string {
  return `# Written by clusters/embedded/containerd.ts for one embedded cluster; removed by its teardown.
version = 2
root = "${layout.containerdRoot}"
state = "${join(layout.runDir, 'containerd')}"

[grpc]
  address = "${layout.containerdSock}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(layout.containerdRoot, 'opt')}"

[plugins."io.containerd.grpc.v1.cri"]
  # Built here (images.ts) and imported, never pulled: this machine reaches no registry of images.
  sandbox_image = "${PAUSE_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj (the sandbox asks for -998,
  # Guaranteed pods for -997) and every pod would fail with "can't get final child's PID from pipe".
  # This clamps the scores to containerd's own (0), as for rootless containerd.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state would otherwise go to /run/containerd/runc, outside our folders.
        Root = "${join(layout.runDir, 'runc')}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${layout.cniBinDir}"
    conf_dir = "${layout.cniConfDir}"
`;
}

/** ctr against this cluster's containerd, in the namespace the CRI plugin uses. */
export function ctr(layout: Layout, args: readonly string[]) {
  return execa('ctr', ['--address', layout.containerdSock, '--namespace', 'k8s.io', ...args], { reject: false, all: true });
}

/** Shims of this containerd (they outlive it): their command line names our socket. */
export function shimPids(layout: Layout, procDir = '/proc'): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(join(procDir, entry, 'cmdline'), 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(layout.containerdSock)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export function containerdStep(layout: Layout): Step {
  const configFile = join(layout.stateDir, 'containerd.toml');
  return daemonStep(layout, {
    name: 'containerd',
    binary: CONTAINERD_BINARY,
    args: ['--config', configFile, '--log-level', 'warn'],
    ready: async () => (existsSync(layout.containerdSock) && (await ctr(layout, ['version'])).exitCode === 0 ? true : undefined),
    timeoutMs: 60_000,
    prepare: () => {
      mkdirSync(layout.runDir, { recursive: true, mode: 0o700 });
      mkdirSync(layout.cniConfDir, { recursive: true });
      writeFileSync(configFile, containerdConfig(layout));
      writeFileSync(join(layout.cniConfDir, CNI_CONFLIST_NAME), `${JSON.stringify(cniConflist(layout), null, 2)}\n`);
      // For people: crictl --config <state>/crictl.yaml ps (or CRI_CONFIG_FILE=...).
      writeFileSync(join(layout.stateDir, 'crictl.yaml'), `runtime-endpoint: unix://${layout.containerdSock}\nimage-endpoint: unix://${layout.containerdSock}\n`);
    },
    cleanup: async () => {
      // Containers were stopped before containerd (kubelet.ts); a shim that survived is killed here.
      for (const pid of shimPids(layout)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      for (const mount of mountsUnder(readMounts(), [layout.containerdRoot, layout.runDir])) {
        await execa('umount', [mount], { reject: false }).then((r) => (r.exitCode === 0 ? r : execa('umount', ['-l', mount], { reject: false })));
      }
      rmSync(layout.containerdRoot, { recursive: true, force: true });
      rmSync(layout.runDir, { recursive: true, force: true });
      rmSync(join(layout.stateDir, 'cni'), { recursive: true, force: true });
      rmSync(configFile, { force: true });
      rmSync(join(layout.stateDir, 'crictl.yaml'), { force: true });
    },
  });
}

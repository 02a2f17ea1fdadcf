// Before anything is started: is this machine able to run the cluster? Root, the Debian packages, and
// the fixed ports free. Every problem in one error (exit 3), with the apt-get line that fixes the packages.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import which from 'which';
import { errors } from '../../contract/errors.ts';
import { CONTAINERD_BINARY } from './containerd.ts';
import type { Layout } from './layout.ts';

/** What the node needs from Debian 12 (the setup step installs these). */
export const DEBIAN_PACKAGES = ['containerd', 'runc', 'containernetworking-plugins', 'iptables', 'conntrack', 'openssl', 'iproute2', 'gcc', 'libc6-dev'] as const;

/** package -> a file it provides, to tell whether it is there. */
const PROVIDES: Record<(typeof DEBIAN_PACKAGES)[number], string> = {
  containerd: CONTAINERD_BINARY,
  runc: 'runc',
  'containernetworking-plugins': '/usr/lib/cni/bridge',
  iptables: 'iptables-restore',
  conntrack: 'conntrack',
  openssl: 'openssl',
  iproute2: 'ip',
  gcc: 'gcc',
  'libc6-dev': '/usr/lib/x86_64-linux-gnu/libc.a',
};

export function missingPackages(pathEnv: string | undefined = process.env.PATH): string[] {
  return DEBIAN_PACKAGES.filter((pkg) => {
    const file = PROVIDES[pkg];
    return file.startsWith('/') ? !existsSync(file) : which.sync(file, { path: pathEnv ?? '', nothrow: true }) === null;
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function busyPorts(layout: Layout): Promise<number[]> {
  const busy: number[] = [];
  for (const port of Object.values(layout.ports)) if (!(await portFree(port))) busy.push(port);
  return busy;
}

export async function preflight(layout: Layout): Promise<void> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('it must run as root (containerd, the kubelet and iptables need it)');
  const missing = missingPackages();
  if (missing.length > 0) problems.push(`missing Debian packages: ${missing.join(', ')}`);
  const busy = await busyPorts(layout);
  if (busy.length > 0) problems.push(`ports in use: ${busy.join(', ')} (another embedded cluster? npx tsx clusters/embedded/down-main.ts)`);
  if (problems.length === 0) return;
  // Busy ports alone are no missing tool: the daemons could not start (the catalog has no port code yet).
  const make = missing.length > 0 || process.getuid?.() !== 0 ? errors.SLO_ERR_ENV_MISSING_TOOL : errors.SLO_ERR_ENV_PROCESS_FAILED;
  throw make(`the embedded cluster cannot start here: ${problems.join('; ')}`,
    missing.length > 0 ? `apt-get install -y ${missing.join(' ')}` : undefined);
}

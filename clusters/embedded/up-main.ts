// Brings the embedded cluster up by hand: npx tsx clusters/embedded/up-main.ts [stateDir]
// Needs root (the kubelet, containerd, iptables). Builds the programs first when needed (build.ts).
// Leaves the cluster running; clusters/embedded/down-main.ts tears it down.
import { networkInterfaces } from 'node:os';
import { isSloError } from '../../contract/errors.ts';
import { ensureKubernetesBinaries } from './build.ts';
import { clusterSteps } from './cluster.ts';
import { layoutFor, pickNodeIp } from './layout.ts';
import { preflight } from './preflight.ts';
import { runSteps } from './steps.ts';

const stateDir = process.argv[2] ?? '/var/lib/slo-embedded';
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
process.on('SIGTERM', () => controller.abort());
const log = (line: string) => console.log(line);

try {
  const { binDir } = await ensureKubernetesBinaries({ log, signal: controller.signal });
  const nodeIp = pickNodeIp(networkInterfaces());
  if (!nodeIp) throw new Error('no non-loopback IPv4 address on this machine for the node');
  const layout = layoutFor(stateDir, binDir, nodeIp);
  await preflight(layout);
  await runSteps(clusterSteps(layout), { log, signal: controller.signal });
  console.log(`up: ${binDir}/kubectl --kubeconfig=${layout.adminKubeconfig} get nodes`);
} catch (error) {
  if (!isSloError(error)) throw error;
  console.error(error.oneLine());
  process.exitCode = error.exitCode;
}

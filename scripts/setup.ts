// Installs what the tests and the local target need on a fresh machine: Debian packages (as root; otherwise
// the exact apt-get line is printed and the exit is 3), kustomize built into .tools/bin, the embedded
// load engine built from load/embedded with the machine's Go, and the embedded cluster's Kubernetes
// built from source into .tools/kubernetes (all cached). `npm test` runs this first, so
// the README's test command works on a machine with only Node and Go. k6 is never fetched or built.
import { isSloError } from '../contract/errors.ts';
import { ensureToolchain } from '../harness/setup/toolchain.ts';
import { ensureKubernetesBinaries } from '../clusters/embedded/build.ts';
import { ensureEmbeddedEngine } from '../load/embedded-build.ts';

const log = (line: string) => process.stderr.write(`setup: ${line}\n`);
try {
  const tools = await ensureToolchain({ log, forTests: true });
  const engine = await ensureEmbeddedEngine({ log });
  // The embedded cluster's programs (Kubernetes, etcd, metrics-server, CoreDNS, crictl, pause) from
  // source: 13-19 min on 2 cores the first time, ~2 s once built (clusters/embedded/BUILD.md).
  const kubernetes = await ensureKubernetesBinaries({ log });
  log(`ready (embedded load engine ${engine}, kustomize ${tools.kustomize}, Kubernetes in ${kubernetes.binDir})`);
} catch (error) {
  process.stderr.write((isSloError(error) ? error.oneLine() : `setup failed: ${(error as Error).message}`) + '\n');
  process.exit(isSloError(error) ? error.exitCode : 3);
}

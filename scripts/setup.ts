// Installs what the tests and the local target need on a fresh machine: Debian packages (as root; otherwise
// the exact apt-get line is printed and the exit is 3), kustomize built into .tools/bin, and the embedded
// load engine built from load/embedded with the machine's Go (both cached). `npm test` runs this first, so
// the README's test command works on a machine with only Node and Go. k6 is never fetched or built.
import { isSloError } from '../contract/errors.ts';
import { ensureToolchain } from '../harness/setup/toolchain.ts';
import { ensureEmbeddedEngine } from '../load/embedded-build.ts';

const log = (line: string) => process.stderr.write(`setup: ${line}\n`);
try {
  const tools = await ensureToolchain({ log, forTests: true });
  const engine = await ensureEmbeddedEngine({ log });
  log(`ready (embedded load engine ${engine}, kustomize ${tools.kustomize})`);
} catch (error) {
  process.stderr.write((isSloError(error) ? error.oneLine() : `setup failed: ${(error as Error).message}`) + '\n');
  process.exit(isSloError(error) ? error.exitCode : 3);
}

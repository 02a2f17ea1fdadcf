// Installs what the tests and the local target need on a fresh machine: Debian packages (as root; otherwise
// the exact apt-get line is printed and the exit is 3), k6 and kustomize built into .tools/bin (cached).
// `npm test` runs this first, so the README's test command works on a machine with only Node and Go.
import { isSloError } from '../contract/errors.ts';
import { ensureToolchain } from '../harness/setup/toolchain.ts';

try {
  const tools = await ensureToolchain({ log: (line) => process.stderr.write(`setup: ${line}\n`), forTests: true });
  process.stderr.write(`setup: ready (k6 ${tools.k6}, kustomize ${tools.kustomize})\n`);
} catch (error) {
  process.stderr.write((isSloError(error) ? error.oneLine() : `setup failed: ${(error as Error).message}`) + '\n');
  process.exit(isSloError(error) ? error.exitCode : 3);
}

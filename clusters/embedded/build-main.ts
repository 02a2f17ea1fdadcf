// Builds the embedded cluster's programs by hand: npx tsx clusters/embedded/build-main.ts
// Prints one line per program built and the folder they are in; exit 3 with one line when Go, gcc or the
// module proxy is missing.
import { isSloError } from '../../contract/errors.ts';
import { ensureKubernetesBinaries } from './build.ts';

const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
process.on('SIGTERM', () => controller.abort());

try {
  const { binDir, versions } = await ensureKubernetesBinaries({ log: (line) => console.log(line), signal: controller.signal });
  console.log(`${binDir}: ${Object.entries(versions).map(([name, version]) => `${name} ${version}`).join(', ')}`);
} catch (error) {
  if (!isSloError(error)) throw error;
  console.error(error.oneLine());
  process.exitCode = error.exitCode;
}

// `npm run bench -- <name>...`: runs the named benches (all when none is named), one at a time, each in its
// own process. Results and the commands that reproduce them: bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = ['load', 'reference-app', 'verify-report', 'embedded-cluster', 'kubernetes-actions', 'runners', 'cnpg-failover'] as const;
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(BENCHES as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; benches: ${BENCHES.join(', ')}\n`);
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : BENCHES) {
  process.stdout.write(`\n== bench/${name}.ts\n`);
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${name}.ts`)], { stdio: 'inherit' });
}

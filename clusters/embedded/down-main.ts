// Tears the embedded cluster down by hand: npx tsx clusters/embedded/down-main.ts [stateDir]
// Works from the state folder alone (pid files, recorded settings), so it also cleans up after a killed
// up-main.ts; running it twice is harmless.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { kubernetesBinDir } from './build.ts';
import { clusterSteps } from './cluster.ts';
import { layoutFor, pickNodeIp } from './layout.ts';
import { teardown } from './steps.ts';

const stateDir = process.argv[2] ?? '/var/lib/slo-embedded';
const binDir = kubernetesBinDir();
const layout = layoutFor(stateDir, binDir, pickNodeIp(networkInterfaces()) ?? '127.0.0.1');
await teardown(clusterSteps(layout), { log: (line) => console.log(line), signal: new AbortController().signal });
// Everything but the logs, which tell what happened.
for (const entry of existsSync(stateDir) ? readdirSync(stateDir, { withFileTypes: true }) : []) {
  if (entry.name !== 'logs') rmSync(join(stateDir, entry.name), { recursive: true, force: true });
}
console.log(`down: done; logs kept in ${join(stateDir, 'logs')}`);

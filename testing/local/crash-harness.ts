// A harness that brings a local cluster up and then hangs, for the test that SIGKILLs it: prints the pids
// and ports it started as one JSON line on stdout. Usage: crash-harness.ts <runsRoot> <runName>
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalCluster } from '../../clusters/local/index.ts';
import { STAND_IN_COMMAND, testContext } from './harness-context.ts';

const [runsRoot, runName] = process.argv.slice(2);
if (!runsRoot || !runName) throw new Error('usage: crash-harness.ts <runsRoot> <runName>');
const ctx = testContext(runsRoot, runName);
const cluster = createLocalCluster(ctx, {
  app: STAND_IN_COMMAND,
  settings: { database: false, prometheus: false, hpa: false },
});
const endpoint = await cluster.up();
const pidFiles = readdirSync(join(ctx.runDir, 'pids')).filter((f) => f.endsWith('.pid'));
const pids = pidFiles.map((f) => Number(readFileSync(join(ctx.runDir, 'pids', f), 'utf8')));
process.stdout.write(JSON.stringify({ pids, lbPort: Number(new URL(endpoint.baseUrl).port) }) + '\n');
setInterval(() => undefined, 60_000);

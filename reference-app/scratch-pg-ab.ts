import { readFileSync } from 'node:fs';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const url = readFileSync('/tmp/ra/pg.out', 'utf8').trim();
const plain = new pg.Pool({ connectionString: url, max: 10 });
const ref = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000, statement_timeout: 5000, query_timeout: 6000, idleTimeoutMillis: 10000, keepAlive: true, application_name: 'x' });
const noQt = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000, statement_timeout: 5000, idleTimeoutMillis: 10000, keepAlive: true, application_name: 'x' });
async function run(pool: pg.Pool, n: number): Promise<number> {
  const c0 = process.cpuUsage(); let i = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (i < n) { i++; await pool.query('SELECT id, name, price_cents FROM items WHERE id = $1', [1 + (i % 1000)]); } }));
  const c = process.cpuUsage(c0); return (c.user + c.system) / n;
}
const pools = { plain, ref, noQt } as Record<string, pg.Pool>;
for (const p of Object.values(pools)) await run(p, 3000);
const res: Record<string, number[]> = { plain: [], ref: [], noQt: [] };
for (let r = 0; r < 6; r++) for (const [k, p] of Object.entries(pools)) res[k]!.push(await run(p, 8000));
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(8), v.map((x) => x.toFixed(1)).join(' '), ' median', [...v].sort((a, b) => a - b)[3]!.toFixed(1));
await Promise.all(Object.values(pools).map((p) => p.end()));

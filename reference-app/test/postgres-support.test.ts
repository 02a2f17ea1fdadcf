// test/support/postgres.ts is what every database test here stands on: prove its contract (data survives
// a crash and a restart, stop() leaves no process and no files).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './support/postgres.ts';

const started: PostgresHandle[] = [];
afterAll(async () => {
  await Promise.all(started.map((h) => h.stop()));
});

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function processesUsing(dataDir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(dataDir));
}

describe('startPostgres', () => {
  it('committed data survives kill() + restart(); stop() removes every process and file', async () => {
    const db = await startPostgres();
    started.push(db);
    expect(db.url).toBe(`postgres://postgres@127.0.0.1:${db.port}/postgres`);
    await query(db.url, 'CREATE TABLE t (v int); INSERT INTO t VALUES (7)');
    expect(processesUsing(db.dataDir).length).toBeGreaterThan(0);

    await db.kill();
    await expect(query(db.url, 'SELECT 1')).rejects.toThrow();
    expect(processesUsing(db.dataDir)).toEqual([]); // postmaster AND backends are gone

    await db.restart();
    expect(await query<{ v: number }>(db.url, 'SELECT v FROM t')).toEqual([{ v: 7 }]);

    await db.restart(); // restart while running = fast shutdown + start
    expect(await query<{ v: number }>(db.url, 'SELECT v FROM t')).toEqual([{ v: 7 }]);

    await db.stop();
    expect(processesUsing(db.dataDir)).toEqual([]);
    expect(existsSync(db.dataDir)).toBe(false);
    await db.stop(); // idempotent
    await expect(db.restart()).rejects.toThrow(/stopped/);
  });
});

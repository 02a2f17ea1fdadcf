// Real etcd, Patroni, PostgreSQL and HAProxy: the failover is a real SIGKILL of the primary's node, and
// durability is checked against what the database still holds afterwards.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf } from '../../contract/timeline.ts';
import { readTimeline, TimelineWriter } from '../../harness/timeline-file.ts';
import { databaseProcesses, reapDatabase, startDatabase, type LocalDatabase } from './index.ts';
import { socketDirFor } from './host.ts';
import { memberStatus } from './patroni-rest.ts';
import { sleep } from '../wait.ts';
import { isPortFree } from './ports.ts';
import { listProcesses, spawnDaemon } from './processes.ts';

const quiet = () => {};

/** Every live process whose command line names the run folder or this cluster's backends — read from /proc directly. */
function leftovers(runDir: string, scope: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(runDir) || cmdline.includes(`postgres: ${scope}:`)) found.push(`${entry} ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

interface Ack {
  id: string;
  at: number;
  port: number; // PostgreSQL port of the member that committed it (through HAProxy)
}

/** A client inserting an order every ~50 ms through HAProxy, reconnecting on any error, keeping only acknowledged ids. */
function startWriteLoop(url: string) {
  const acked: Ack[] = [];
  let running = true;
  let failures = 0;
  const done = (async () => {
    let client: pg.Client | null = null;
    while (running) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000, query_timeout: 5000 });
          client.on('error', quiet);
          await client.connect();
        }
        const { rows } = await client.query<{ id: string; port: number }>(
          'insert into orders default values returning id::text as id, inet_server_port() as port',
        );
        const row = rows[0];
        if (row) acked.push({ id: row.id, at: Date.now(), port: row.port });
      } catch {
        failures++;
        await client?.end().catch(quiet);
        client = null;
      }
      await sleep(50);
    }
    await client?.end().catch(quiet);
  })();
  return {
    acked,
    failures: () => failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('local HA database (Patroni + etcd + HAProxy)', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'slo-db-'));
  const timelineFile = join(runDir, 'timeline.jsonl');
  let db: LocalDatabase;

  beforeAll(async () => {
    db = await startDatabase({ runDir, timeline: new TimelineWriter(timelineFile), signal: new AbortController().signal, log: quiet });
  }, 120_000);

  afterAll(async () => {
    await db?.stop();
    await reapDatabase(runDir);
    rmSync(runDir, { recursive: true, force: true });
  }, 60_000);

  it('starts with a primary and a synchronous standby, reached through HAProxy', async () => {
    const primary = await db.primary();
    expect(['pg-0', 'pg-1']).toContain(primary);
    const statuses = await Promise.all(db.members.map((m) => memberStatus(m.rest)));
    expect(statuses.map((s) => s.role).sort()).toEqual(['primary', 'replica']);
    expect(statuses.find((s) => s.role === 'replica')?.syncStandby).toBe(true);

    expect(db.url).toMatch(new RegExp(`^postgres://app:[^@]+@127\\.0\\.0\\.1:${db.haproxyPort}/app$`));
    const [settings] = await query<{ recovery: boolean; commit: string; standbys: string; port: number; user: string }>(
      db.url,
      `select pg_is_in_recovery() as recovery, current_setting('synchronous_commit') as commit,
              current_setting('synchronous_standby_names') as standbys, inet_server_port() as port, current_user as user`,
    );
    expect(settings).toMatchObject({ recovery: false, commit: 'on', user: 'app' });
    expect(settings?.standbys).not.toBe('');
    expect(settings?.port).toBe(db.members.find((m) => m.name === primary)?.pg);
  });

  it('missingOrders: every id when there is no table, then exactly the ids never written or deleted', async () => {
    expect(await db.missingOrders(['1', '2'])).toEqual(['1', '2']);
    await query(db.url, 'create table orders (id bigserial primary key, created_at timestamptz not null default now())');
    const rows = await query<{ id: string }>(
      db.url,
      'insert into orders (created_at) select now() from generate_series(1, 3) returning id::text as id',
    );
    const [a, b, c] = rows.map((r) => r.id) as [string, string, string];
    await query(db.url, 'delete from orders where id = $1', [b]);
    expect(await db.missingOrders([a, b, c, '987654321', a])).toEqual([b, '987654321']);
    expect(await db.missingOrders([])).toEqual([]);
  });

  it('fails over on a crash of the primary under writes: new primary within 30 s, no acknowledged write lost', async () => {
    const before = await db.primary();
    const writes = startWriteLoop(db.url);
    try {
      await expect.poll(() => writes.acked.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
      const killedAt = Date.now();
      await db.failover();
      const after = await db.primary();
      expect(after).not.toBeNull();
      expect(after).not.toBe(before);
      const newPrimaryPort = db.members.find((m) => m.name === after)?.pg;
      // Keep writing on the healed cluster (the old primary is now the synchronous standby).
      const countAfterFailover = writes.acked.length;
      await expect.poll(() => writes.acked.length, { timeout: 10_000 }).toBeGreaterThan(countAfterFailover + 10);
      await writes.stop();

      const firstOnNewPrimary = writes.acked.find((w) => w.port === newPrimaryPort && w.at > killedAt);
      expect(firstOnNewPrimary).toBeDefined();
      const failoverMs = (firstOnNewPrimary?.at ?? Infinity) - killedAt;
      console.log(`failover: ${(failoverMs / 1000).toFixed(1)} s from the kill to the first acknowledged write on ${after}; ` +
        `${writes.acked.length} writes acknowledged, ${writes.failures()} attempts failed`);
      expect(failoverMs).toBeLessThan(30_000);
      expect(writes.failures()).toBeGreaterThan(0); // the crash was visible to the client: it was not a switchover

      expect(await db.missingOrders(writes.acked.map((w) => w.id))).toEqual([]);

      const roles = eventsOf(readTimeline(timelineFile), 'db.role').map((e) => ({ t: e.t, ...e.data }));
      const afterKill = roles.filter((r) => r.t >= killedAt);
      expect(roles.filter((r) => r.t < killedAt && r.role === 'primary').at(-1)?.member).toBe(before);
      expect(afterKill).toContainEqual(expect.objectContaining({ member: before, role: 'down' }));
      expect(afterKill).toContainEqual(expect.objectContaining({ member: after, role: 'primary' }));
      expect(afterKill.filter((r) => r.member === before).at(-1)?.role).toBe('replica');
    } finally {
      await writes.stop();
    }
  }, 150_000);

  it('stop() kills every process and frees every port, and may be called again', async () => {
    expect(leftovers(runDir, db.scope).length).toBeGreaterThan(0); // the check below sees real processes
    await db.stop();
    await db.stop();
    expect(leftovers(runDir, db.scope)).toEqual([]);
    expect(databaseProcesses(runDir)).toEqual([]);
    for (const port of db.ports) expect(await isPortFree(port), `port ${port}`).toBe(true);
  }, 60_000);
});

describe('startDatabase edges', () => {
  it('keeps the unix socket under the run folder unless its path would be too long for a socket', () => {
    expect(socketDirFor('/tmp/run/db/sock')).toEqual({ dir: '/tmp/run/db/sock', temporary: false });
    const deep = socketDirFor(`/tmp/${'deep/'.repeat(20)}db/sock`);
    try {
      expect(deep.temporary).toBe(true);
      expect(Buffer.byteLength(`${deep.dir}/.s.PGSQL.65535.lock`)).toBeLessThan(108);
    } finally {
      rmSync(deep.dir, { recursive: true, force: true });
    }
  });

  it('stops promptly when the run is aborted during start, leaving nothing behind', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'slo-db-abort-'));
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 1500);
      const started = Date.now();
      await expect(startDatabase({ runDir, timeline: new TimelineWriter(join(runDir, 'timeline.jsonl')), signal: abort.signal, log: quiet }))
        .rejects.toMatchObject({ code: 'SLO_ERR_RUN_ABORTED' });
      expect(Date.now() - started).toBeLessThan(20_000);
      const scope = readFileSync(join(runDir, 'db', 'scope'), 'utf8').trim();
      expect(leftovers(runDir, scope)).toEqual([]);
    } finally {
      await reapDatabase(runDir);
      rmSync(runDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('reapDatabase kills what a crashed run left, whole process groups, found through pid files', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'slo-db-reap-'));
    try {
      const dbDir = join(runDir, 'db');
      const pidDir = join(dbDir, 'pids');
      mkdirSync(pidDir, { recursive: true });
      // Stand-in for a daemon of a crashed run: the shell names the run folder, its child (sleep) does not.
      const orphan = spawnDaemon({
        name: 'etcd', command: 'sh', args: ['-c', `sleep 300; : ${dbDir}/etcd`], logFile: join(dbDir, 'etcd.log'),
        pidDir, env: { PATH: process.env.PATH }, cwd: runDir,
      });
      const group = () => listProcesses().filter((p) => p.pgid === orphan.pid);
      await expect.poll(() => group().length).toBe(2);
      expect(await reapDatabase(runDir)).toBeGreaterThanOrEqual(1);
      expect(group()).toEqual([]);
      expect(leftovers(runDir, 'no-such-scope')).toEqual([]);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});

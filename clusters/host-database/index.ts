// Highly available PostgreSQL for the local target: one etcd, two (or three) Patroni members in synchronous
// mode, and an HAProxy that sends connections only to the member whose Patroni answers 200 on /primary —
// the layout of Patroni's own example deployments. The service under test reaches the database only through
// HAProxy, so a failover is what a real client would see: cut connections, then a new primary.
import { randomBytes } from 'node:crypto';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { errors, isSloError } from '../../contract/errors.ts';
import type { TimelineSink } from '../../contract/timeline.ts';
import { etcdArgs, haproxyConfig, patroniConfig, PG_BIN_DIR, type MemberPorts, type Secrets } from './config.ts';
import { serversUp } from './haproxy-stats.ts';
import { ensureReachable, ETCD_BIN, HAPROXY_BIN, postgresUser, requireTools, socketDirFor } from './host.ts';
import { databaseLayout, MEMBER_NAMES, type DatabaseLayout } from './layout.ts';
import { PatroniMember } from './member.ts';
import { missingOrders } from './orders.ts';
import { freePorts } from './ports.ts';
import { removePidFile, signalGroup, spawnDaemon, waitGone, type Daemon } from './processes.ts';
import { reapDatabase } from './reap.ts';
import { watchRoles, type RoleWatcher } from './role-watcher.ts';
import { waitFor, type WaitOptions } from '../wait.ts';

export { reapDatabase, databaseProcesses } from './reap.ts';
export { ROLE_EVENT_SOURCE } from './role-watcher.ts';

export interface Database {
  /** postgres://app:<password>@127.0.0.1:<haproxy port>/app — always the current primary. */
  url: string;
  /** The same URL with another host this database also listens on (`DatabaseOptions.extraBind`). */
  urlVia(host: string): string;
  /** Name of the current primary member (pg-0, pg-1...), or null while there is none. */
  primary(): Promise<string | null>;
  /** Crashes the primary's node, waits for a new primary, restarts the node as a standby. */
  failover(): Promise<void>;
  /** The ids (of those given) that the `orders` table does not hold. */
  missingOrders(ids: readonly string[]): Promise<string[]>;
  /** Idempotent; kills every process of the database. */
  stop(): Promise<void>;
}

/** What tests and diagnostics may also want; the orchestrator needs only `Database`. */
export interface LocalDatabase extends Database {
  readonly scope: string;
  readonly members: readonly MemberPorts[];
  readonly haproxyPort: number;
  /** Every port this database listens on. */
  readonly ports: readonly number[];
}

export interface DatabaseContext {
  runDir: string;
  timeline: TimelineSink;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface DatabaseOptions {
  /** Patroni members; 2 by default. */
  members?: 2 | 3;
  /** Until a primary, a synchronous standby and HAProxy routing are all up. */
  startTimeoutMs?: number;
  /** From the kill until another member is primary and HAProxy routes to it. */
  failoverTimeoutMs?: number;
  /** From the restart of the killed node until it streams again as a standby. */
  rejoinTimeoutMs?: number;
  /** Another address HAProxy listens on besides 127.0.0.1 (the embedded cluster's node address). */
  extraBind?: string;
}

const PROCESS_ENV: NodeJS.ProcessEnv = {
  PATH: `${PG_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  PYTHONUNBUFFERED: '1',
};

/**
 * The database lives in `<runDir>/db` when the postgres user can reach the run folder. When an ancestor it
 * does not own is closed to it (a clone under root's 0700 home, say), the data goes to a folder under the
 * system temp dir instead and `<runDir>/db` becomes a link to it, so the run folder still shows everything
 * and nobody's home directory is opened up.
 */
function placeDatabaseRoot(ctx: DatabaseContext, postgres: ReturnType<typeof postgresUser>): void {
  try {
    ensureReachable(ctx.runDir, postgres);
    return;
  } catch (error) {
    if (!isSloError(error) || existsSync(join(ctx.runDir, 'db'))) throw error;
  }
  const elsewhere = mkdtempSync(join(tmpdir(), 'slo-db-'));
  chmodSync(elsewhere, 0o711);
  symlinkSync(elsewhere, join(ctx.runDir, 'db'));
  ctx.log(`database: ${ctx.runDir} is closed to the postgres user; data in ${elsewhere} (linked as db/)`);
}

export async function startDatabase(ctx: DatabaseContext, options: DatabaseOptions = {}): Promise<LocalDatabase> {
  requireTools();
  const postgres = postgresUser();
  // A previous database in this same run folder (a crashed harness) would hold the data dirs.
  await reapDatabase(ctx.runDir);
  mkdirSync(ctx.runDir, { recursive: true });
  placeDatabaseRoot(ctx, postgres);
  const layout = databaseLayout(ctx.runDir);

  const memberCount = options.members ?? 2;
  const ports = await freePorts(4 + memberCount * 2);
  const [etcdClientPort, etcdPeerPort, haproxyPort, statsPort, ...memberPortList] = ports as [number, number, number, number, ...number[]];
  const members: MemberPorts[] = MEMBER_NAMES.slice(0, memberCount).map((name, i) => ({
    name,
    rest: memberPortList[2 * i] as number,
    pg: memberPortList[2 * i + 1] as number,
  }));
  const scope = `slo-${randomBytes(4).toString('hex')}`;
  const secrets: Secrets = { superuser: secret(), replication: secret(), rewind: secret(), app: secret() };
  const url = `postgres://app:${secrets.app}@127.0.0.1:${haproxyPort}/app`;

  const socket = prepareFolders(layout, scope, postgres);
  const daemons: Daemon[] = [];
  const patroniMembers = members.map((ports) => new PatroniMember(ports, layout.member(ports.name as (typeof MEMBER_NAMES)[number]), {
    pidDir: layout.pids,
    runAs: postgres,
    env: PROCESS_ENV,
  }));
  for (const member of patroniMembers) {
    writePrivate(member.layout.config, patroniConfig({
      scope,
      member: member.ports,
      etcdClientPort,
      dataDir: member.layout.dataDir,
      pgpass: member.layout.pgpass,
      socketDir: socket.dir,
      secrets,
    }), postgres);
  }
  writeFileSync(layout.haproxyConfig, haproxyConfig({ port: haproxyPort, statsPort, members, ...(options.extraBind ? { extraBind: options.extraBind } : {}) }));

  let watcher: RoleWatcher | null = null;
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await watcher?.stop();
      await Promise.all(patroniMembers.map((m) => m.stop()));
      await Promise.all(daemons.map((d) => stopDaemon(d, layout)));
      await reapDatabase(ctx.runDir); // anything that escaped its group (a backend mid-fork, say)
      if (socket.temporary) rmSync(socket.dir, { recursive: true, force: true });
      ctx.log(`database: stopped (${scope})`);
    })();
    return stopped;
  };

  // A daemon that dies during a wait ends the wait at once with its log's name, instead of a timeout.
  const failFast = () => {
    for (const d of daemons) {
      const exit = d.exit();
      if (exit !== null) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`${d.name} exited (${exit}) while the database started`, `see ${layout.logs}/${d.name}.log`);
    }
    for (const m of patroniMembers) {
      const exit = m.exited();
      if (exit !== null) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`patroni ${m.name} exited (${exit})`, `see ${m.layout.log}`);
    }
  };
  const startDeadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  const untilStarted = (what: string): WaitOptions => ({ what, timeoutMs: Math.max(0, startDeadline - Date.now()), signal: ctx.signal, failFast, hint: `see ${layout.logs}` });

  try {
    ctx.log(`database: starting etcd, ${memberCount} Patroni members and HAProxy (${scope}) under ${layout.root}`);
    daemons.push(spawnDaemon({
      name: 'etcd',
      command: ETCD_BIN,
      args: etcdArgs({ dataDir: layout.etcdData, clientPort: etcdClientPort, peerPort: etcdPeerPort }),
      logFile: `${layout.logs}/etcd.log`,
      pidDir: layout.pids,
      env: { ...PROCESS_ENV, HOME: layout.root },
      cwd: layout.root,
    }));
    daemons.push(spawnDaemon({
      name: 'haproxy',
      command: HAPROXY_BIN,
      args: ['-db', '-f', layout.haproxyConfig],
      logFile: `${layout.logs}/haproxy.log`,
      pidDir: layout.pids,
      env: { ...PROCESS_ENV, HOME: layout.root },
      cwd: layout.root,
    }));
    await waitFor(() => etcdHealthy(etcdClientPort), untilStarted('healthy etcd'));

    for (const member of patroniMembers) member.start();
    watcher = watchRoles(members, ctx.timeline);
    const roles = watcher;
    const primary = await waitFor(async () => primaryWithSyncStandby(roles), untilStarted('primary with a synchronous standby'));
    await createAppDatabase(members.find((m) => m.name === primary) as MemberPorts, secrets);
    await waitFor(async () => routesOnlyTo(statsPort, primary), untilStarted(`HAProxy routing to ${primary}`));
    await waitFor(() => writableThrough(url), untilStarted('writable primary through HAProxy'));
    ctx.log(`database: up, primary ${primary}, HAProxy on 127.0.0.1:${haproxyPort}`);
  } catch (error) {
    await stop();
    throw error;
  }

  const roles = watcher;
  const currentPrimary = (): string | null => [...roles.current()].find(([, s]) => s.role === 'primary')?.[0] ?? null;

  let failing: Promise<void> = Promise.resolve();
  const failoverOnce = async (): Promise<void> => {
    await roles.pollNow();
    const victimName = currentPrimary();
    const victim = patroniMembers.find((m) => m.name === victimName);
    if (!victim) throw errors.SLO_ERR_ENV_PROCESS_FAILED('there is no primary to fail over', `see ${layout.logs}`);
    const bounded = (what: string, timeoutMs: number): WaitOptions => ({ what, timeoutMs, signal: ctx.signal, hint: `see ${layout.logs}` });

    await victim.crash();
    ctx.log(`database: killed node ${victim.name} (Patroni and PostgreSQL, SIGKILL)`);
    const next = await waitFor(async () => {
      const name = currentPrimary();
      return name !== null && name !== victim.name ? name : undefined;
    }, bounded(`new primary after killing ${victim.name}`, options.failoverTimeoutMs ?? 45_000));
    await waitFor(async () => routesOnlyTo(statsPort, next), bounded(`HAProxy routing to ${next}`, 15_000));
    ctx.log(`database: ${next} is the new primary; restarting ${victim.name} as a standby`);

    victim.start();
    await waitFor(async () => {
      const statuses = roles.current();
      const rejoined = statuses.get(victim.name)?.role === 'replica';
      const synchronous = [...statuses.values()].some((s) => s.syncStandby);
      const failed = victim.exited();
      if (failed !== null) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`patroni ${victim.name} exited (${failed}) while rejoining`, `see ${victim.layout.log}`);
      return rejoined && synchronous ? true : undefined;
    }, bounded(`${victim.name} rejoining as a standby`, options.rejoinTimeoutMs ?? 90_000));
    ctx.log(`database: ${victim.name} rejoined as a standby`);
  };

  return {
    url,
    urlVia: (host) => url.replace('@127.0.0.1:', `@${host}:`),
    scope,
    members,
    haproxyPort,
    ports,
    primary: async () => {
      await roles.pollNow();
      return currentPrimary();
    },
    failover: () => {
      // One failover at a time: a second one waits for the cluster to be whole again.
      const run = failing.then(failoverOnce);
      failing = run.catch(() => {});
      return run;
    },
    missingOrders: (ids) => missingOrders(url, ids),
    stop,
  };
}

function secret(): string {
  return randomBytes(18).toString('hex');
}

/** Creates the folders; those PostgreSQL writes belong to the postgres user and only it (initdb insists). */
function prepareFolders(layout: DatabaseLayout, scope: string, postgres: { uid: number; gid: number }): { dir: string; temporary: boolean } {
  mkdirSync(layout.root, { recursive: true });
  chmodSync(layout.root, 0o755);
  for (const dir of [layout.etcdData, layout.logs, layout.pids]) mkdirSync(dir, { recursive: true });
  writeFileSync(layout.scopeFile, `${scope}\n`);
  for (const name of MEMBER_NAMES) {
    const home = layout.member(name).home;
    mkdirSync(home, { recursive: true });
    chownSync(home, postgres.uid, postgres.gid);
    chmodSync(home, 0o700);
  }
  const socket = socketDirFor(`${layout.root}/sock`);
  mkdirSync(socket.dir, { recursive: true });
  chownSync(socket.dir, postgres.uid, postgres.gid);
  chmodSync(socket.dir, 0o700);
  return socket;
}

/** Holds passwords: readable by the postgres user only. */
function writePrivate(file: string, content: string, owner: { uid: number; gid: number }): void {
  writeFileSync(file, content, { mode: 0o600 });
  chownSync(file, owner.uid, owner.gid);
}

async function stopDaemon(daemon: Daemon, layout: DatabaseLayout): Promise<void> {
  signalGroup(daemon.pid, 'SIGTERM');
  if (!(await waitGone([daemon.pid], 3000))) signalGroup(daemon.pid, 'SIGKILL');
  await waitGone([daemon.pid], 2000);
  removePidFile(layout.pids, daemon.name);
}

async function etcdHealthy(port: number): Promise<true | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return body.health === 'true' || body.health === true ? true : undefined;
  } catch {
    return undefined;
  }
}

/** The primary's name once it runs and some replica is its synchronous standby. */
function primaryWithSyncStandby(roles: RoleWatcher): string | undefined {
  const statuses = [...roles.current()];
  const primary = statuses.find(([, s]) => s.role === 'primary');
  const sync = statuses.some(([, s]) => s.role === 'replica' && s.syncStandby);
  return primary && sync ? primary[0] : undefined;
}

async function routesOnlyTo(statsPort: number, member: string): Promise<true | undefined> {
  const up = await serversUp(statsPort);
  return up !== null && up.length === 1 && up[0] === member ? true : undefined;
}

/** The `app` role and database the service uses. Idempotent. Replicated to the standby like any write. */
async function createAppDatabase(primary: MemberPorts, secrets: Secrets): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: primary.pg, user: 'postgres', password: secrets.superuser, database: 'postgres' });
  await client.connect();
  try {
    // Secrets are hex, so inlining them in these utility statements (which take no parameters) is safe.
    const role = await client.query(`select 1 from pg_roles where rolname = 'app'`);
    if (role.rowCount === 0) await client.query(`create role app login password '${secrets.app}'`);
    const database = await client.query(`select 1 from pg_database where datname = 'app'`);
    if (database.rowCount === 0) await client.query('create database app owner app');
  } finally {
    await client.end().catch(() => {});
  }
}

async function writableThrough(url: string): Promise<true | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
    return result.rows[0]?.recovery === false ? true : undefined;
  } catch (error) {
    if (isSloError(error)) throw error;
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

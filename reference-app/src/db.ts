// The PostgreSQL pool and the rules for using it through a failover: every connection has a connect
// timeout, a server-side statement_timeout and a client-side query_timeout (so nothing waits forever on a
// dead primary), broken connections are dropped instead of returned to the pool, and pool `error` events
// (an idle connection killed by a failover) are logged, never fatal.
import pg from 'pg';
import type { AppConfig } from './config.ts';
import { UNTRACED, type DatabasePeer, type RequestTrace } from './request-trace.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type PoolSettings = Pick<AppConfig, 'databaseUrl' | 'dbPoolMax' | 'dbStatementTimeoutMs' | 'dbConnectTimeoutMs' | 'instanceId'>;

type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * pg.Pool, with its checkout timeout (connectionTimeoutMillis) armed only when a checkout can wait.
 * pg-pool sets and clears that timer on every checkout, even when an idle connection is there to be handed
 * over on the next tick and nothing can time out: a Timeout object and two timer-list updates per query for
 * nothing. When a connection is idle and no checkout is queued ahead, this one is served on the next tick,
 * so it goes without the timer; whenever it could wait (every connection busy, or a new one to open), the
 * timeout applies exactly as before, and a new connection's connect attempt keeps its own timeout (pg's
 * Client reads connectionTimeoutMillis when it is created). A failover still answers 503 within the timeout.
 */
class CheckoutPool extends pg.Pool {
  override connect(): Promise<PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    const timeout = this.options.connectionTimeoutMillis;
    if (!timeout || this.idleCount === 0 || this.waitingCount > 0) return callback ? super.connect(callback) : super.connect();
    // pg-pool reads the option at the moment connect() decides whether to arm the timer (synchronously).
    this.options.connectionTimeoutMillis = 0;
    try {
      return callback ? super.connect(callback) : super.connect();
    } finally {
      this.options.connectionTimeoutMillis = timeout;
    }
  }
}

export function createPool(settings: PoolSettings, log: Logger, max = settings.dbPoolMax): Pool {
  const pool = new CheckoutPool({
    connectionString: settings.databaseUrl,
    max,
    connectionTimeoutMillis: settings.dbConnectTimeoutMs,
    statement_timeout: settings.dbStatementTimeoutMs,
    // The client-side timeout also covers a primary that vanished without closing the socket.
    query_timeout: settings.dbStatementTimeoutMs + 1000,
    idleTimeoutMillis: 10_000,
    keepAlive: true,
    application_name: `reference-app/${settings.instanceId}`.slice(0, 63),
  });
  pool.on('error', (err) => {
    // pg-pool already removed the broken client; the next checkout opens a fresh connection.
    log.warn({ err: describeError(err) }, 'database connection lost; it will be replaced');
  });
  return pool;
}

// SQLSTATE classes and socket errors that mean "this connection (or the server) is gone", as opposed to
// "this statement is wrong". Only these make a read worth one retry on a fresh connection.
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH']);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Query read timeout',
  'Client was closed',
  'connection is closed',
];

export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_SQLSTATES.has(code) || code.startsWith('08') || SOCKET_CODES.has(code)) return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m));
}

export function describeError(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
  }
  return { message: String(err) };
}

/** What a statement runs on: the pool (a connection of its own), a checked-out client, or a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

const peers = new WeakMap<Pool, DatabasePeer>();

/** The database a pool's statements go to, as their spans name it (read once per pool). */
function peerOf(pool: Pool): DatabasePeer {
  let peer = peers.get(pool);
  if (peer === undefined) {
    const options = pool.options;
    let url: URL | undefined;
    try {
      url = options.connectionString ? new URL(options.connectionString) : undefined;
    } catch {
      url = undefined; // a libpq keyword string: the separate options below, or nothing
    }
    peer = {
      namespace: url?.pathname.slice(1) || options.database,
      address: url?.hostname || options.host,
      port: Number(url?.port) || options.port || 5432,
    };
    peers.set(pool, peer);
  }
  return peer;
}

/** One statement, timed as a span under the request's when the request is recorded; otherwise just run. */
function statement<R extends pg.QueryResultRow>(on: Queryable, pool: Pool, trace: RequestTrace, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  if (!trace.recording) return on.query<R>(text, values);
  const end = trace.statement(text, peerOf(pool));
  return on.query<R>(text, values).then((result) => {
    end();
    return result;
  }, (err: unknown) => {
    end(err);
    throw err;
  });
}

/** A read on its own connection, retried ONCE when the connection (not the query) failed. */
export async function readQuery<R extends pg.QueryResultRow>(pool: Pool, text: string, values: unknown[], trace: RequestTrace = UNTRACED): Promise<pg.QueryResult<R>> {
  try {
    return await statement<R>(pool, pool, trace, text, values);
  } catch (err) {
    if (!isConnectionError(err)) throw err;
    // pool.query already destroyed the broken client, so the retry gets a fresh connection.
    return statement<R>(pool, pool, trace, text, values);
  }
}

/**
 * Run `work` in a transaction. Never retried: after a connection error the outcome of COMMIT is unknown,
 * and the caller must say so rather than guess. A client that saw a connection error is destroyed.
 * Every statement, BEGIN and COMMIT included, is a span of `trace` when it records.
 */
export async function inTransaction<T>(pool: Pool, work: (tx: Queryable) => Promise<T>, trace: RequestTrace = UNTRACED): Promise<T> {
  const client = await pool.connect();
  // The transaction's statements, each a span of the request's when it records.
  const tx: Queryable = { query: (text, values) => statement(client, pool, trace, text, values) };
  let broken: Error | undefined;
  // pg-pool listens for errors only on idle clients. A connection cut while this one is checked out but
  // between two statements (a failover: HAProxy shuts the session) is emitted as 'error' on the client,
  // and an 'error' nobody listens to crashes the process. Remember it instead: the next statement fails
  // with it, the write answers 503, and release(broken) destroys the connection.
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (err) {
    if (isConnectionError(err)) {
      broken = err instanceof Error ? err : new Error(String(err));
    } else {
      await tx.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
    }
    throw err;
  } finally {
    client.off('error', onError);
    // release(err) destroys the connection instead of handing a half-dead one to the next request.
    client.release(broken);
  }
}

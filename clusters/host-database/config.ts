// Configuration files of the database's daemons, as pure functions of ports, paths and secrets.
// Patroni's keys follow its postgres0.yml example (YAML built from an object); HAProxy's (not YAML: text)
// follow Patroni's haproxy.cfg example, with faster checks (see `haproxyConfig`).
import { stringify } from 'yaml';

/** Failure detection: ttl >= loop_wait + 2 * retry_timeout, as Patroni requires; fails over in ~10 s here. */
export const PATRONI_TIMING = { ttl: 10, loop_wait: 2, retry_timeout: 4 } as const;

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

export interface Secrets {
  superuser: string;
  replication: string;
  rewind: string;
  app: string;
}

export interface MemberPorts {
  name: string;
  rest: number;
  pg: number;
}

export interface PatroniConfigInput {
  scope: string;
  member: MemberPorts;
  etcdClientPort: number;
  dataDir: string;
  pgpass: string;
  socketDir: string;
  secrets: Secrets;
}

export function patroniConfig(input: PatroniConfigInput): string {
  const { member, secrets } = input;
  const config = {
    scope: input.scope,
    name: member.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${member.rest}`, connect_address: `127.0.0.1:${member.rest}` },
    etcd3: { hosts: [`127.0.0.1:${input.etcdClientPort}`] },
    bootstrap: {
      dcs: {
        ...PATRONI_TIMING,
        maximum_lag_on_failover: 1048576,
        // A commit is acknowledged only once the synchronous standby has it, and only that standby may be
        // promoted: a crash of the primary loses no acknowledged write.
        synchronous_mode: true,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: { wal_log_hints: 'on', synchronous_commit: 'on', max_wal_senders: 10, max_replication_slots: 10 },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: `127.0.0.1:${member.pg}`,
      connect_address: `127.0.0.1:${member.pg}`,
      data_dir: input.dataDir,
      bin_dir: PG_BIN_DIR,
      pgpass: input.pgpass,
      authentication: {
        superuser: { username: 'postgres', password: secrets.superuser },
        replication: { username: 'replicator', password: secrets.replication },
        rewind: { username: 'rewinder', password: secrets.rewind },
      },
      parameters: {
        unix_socket_directories: input.socketDir,
        // Small: two or three of these share a 2-core machine with the service and the load generator.
        max_connections: 60,
        shared_buffers: '32MB',
        password_encryption: 'scram-sha-256',
      },
      pg_hba: [
        'local all all scram-sha-256',
        'host replication replicator 127.0.0.1/32 scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return stringify(config);
}

export function etcdArgs(input: { dataDir: string; clientPort: number; peerPort: number }): string[] {
  const client = `http://127.0.0.1:${input.clientPort}`;
  const peer = `http://127.0.0.1:${input.peerPort}`;
  return [
    '--name', 'etcd0',
    '--data-dir', input.dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `etcd0=${peer}`,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
  ];
}

export function haproxyConfig(input: { port: number; statsPort: number; members: readonly MemberPorts[]; extraBind?: string }): string {
  const servers = input.members.map(
    (m) => `    server ${m.name} 127.0.0.1:${m.pg} maxconn 100 check port ${m.rest}`,
  );
  return [
    'global',
    '    maxconn 300',
    '',
    'defaults',
    '    mode tcp',
    '    retries 2',
    '    timeout connect 4s',
    '    timeout client 30m',
    '    timeout server 30m',
    '    timeout check 2s',
    '',
    // Read-only status page: tells which server HAProxy routes to (CSV at /;csv).
    'listen stats',
    '    mode http',
    `    bind 127.0.0.1:${input.statsPort}`,
    '    stats enable',
    '    stats uri /',
    '',
    // Only the member whose Patroni answers 200 on /primary receives connections; when it stops answering,
    // its open sessions are cut so clients reconnect to the new primary instead of hanging. Checks every 1 s,
    // down after 2 failures, up after 1 success (Patroni's example: inter 3s fall 3 rise 2), so HAProxy
    // follows a failover within about 2 s of Patroni's promotion: that delay is part of what the failover
    // SLO measures. A check waits at most `timeout check` (2 s) for Patroni's answer.
    'listen primary',
    `    bind 127.0.0.1:${input.port}`,
    // Pods of the embedded cluster reach the database at the node's address (their 127.0.0.1 is their own).
    ...(input.extraBind ? [`    bind ${input.extraBind}:${input.port}`] : []),
    '    option httpchk GET /primary',
    '    http-check expect status 200',
    '    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions',
    ...servers,
    '',
  ].join('\n');
}

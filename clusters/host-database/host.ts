// What this machine must offer before the database can start: the programs, the `postgres` user (PostgreSQL
// refuses to run as root), and a run folder that user can reach.
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { PG_BIN_DIR } from './config.ts';
import { PATRONI_BIN } from './member.ts';
import type { RunAs } from './processes.ts';

export const ETCD_BIN = '/usr/bin/etcd';
export const HAPROXY_BIN = '/usr/sbin/haproxy';

export function requireTools(): void {
  for (const tool of [PATRONI_BIN, ETCD_BIN, HAPROXY_BIN, join(PG_BIN_DIR, 'postgres'), join(PG_BIN_DIR, 'pg_rewind')]) {
    try {
      accessSync(tool, constants.X_OK);
    } catch {
      throw errors.SLO_ERR_ENV_MISSING_TOOL(`${tool} is missing`, 'install postgresql-15, patroni, etcd and haproxy (apt-get install ...)');
    }
  }
}

export function postgresUser(): RunAs {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw errors.SLO_ERR_ENV_MISSING_TOOL('there is no `postgres` user', 'install postgresql-15, which creates it');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * The postgres user must traverse every folder down to the run folder. The run folder itself is ours, so we
 * add the search bit (not read) when it lacks it; an ancestor we do not own is reported, not changed.
 */
export function ensureReachable(runDir: string, user: RunAs): void {
  const runStat = statSync(runDir);
  if ((runStat.mode & 0o001) === 0) chmodSync(runDir, (runStat.mode & 0o7777) | 0o001);
  for (let dir = dirname(runDir); ; dir = dirname(dir)) {
    const st = statSync(dir);
    const searchable = st.uid === user.uid ? (st.mode & 0o100) !== 0 : st.gid === user.gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
    if (!searchable) {
      throw errors.SLO_ERR_ENV_PROCESS_FAILED(`the postgres user cannot reach ${runDir}: ${dir} is not searchable`, `chmod o+x ${dir}`);
    }
    if (dir === dirname(dir)) return;
  }
}

/** Unix socket paths are limited to 107 bytes; a deep run folder falls back to a short folder under /tmp. */
export function socketDirFor(preferred: string): { dir: string; temporary: boolean } {
  const longestSocket = `${preferred}/.s.PGSQL.65535.lock`;
  if (Buffer.byteLength(longestSocket) <= 100) return { dir: preferred, temporary: false };
  return { dir: mkdtempSync(join(tmpdir(), 'slo-pgsock-')), temporary: true };
}

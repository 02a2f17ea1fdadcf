// Where everything of the database lives inside a run folder. One place, so start, crash, restart and reap
// (possibly by a later run) agree on the paths.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';

export const MEMBER_NAMES = ['pg-0', 'pg-1', 'pg-2'] as const;
export type MemberName = (typeof MEMBER_NAMES)[number];

export interface DatabaseLayout {
  root: string; // <runDir>/db
  etcdData: string;
  logs: string;
  pids: string;
  haproxyConfig: string;
  /** Holds the Patroni scope; backends show it in their process title ("postgres: <scope>: ..."). */
  scopeFile: string;
  member(name: MemberName): MemberLayout;
}

export interface MemberLayout {
  home: string; // owned by postgres
  dataDir: string;
  config: string;
  pgpass: string;
  log: string;
}

export function databaseLayout(runDir: string): DatabaseLayout {
  // Real path: when db/ links elsewhere (a run folder closed to the postgres user), postgres must be
  // given paths it can traverse.
  const link = join(runDir, 'db');
  let root = link;
  try {
    root = realpathSync(link);
  } catch {
    // not there yet
  }
  return {
    root,
    etcdData: join(root, 'etcd'),
    logs: join(root, 'logs'),
    pids: join(root, 'pids'),
    haproxyConfig: join(root, 'haproxy.cfg'),
    scopeFile: join(root, 'scope'),
    member: (name) => {
      const home = join(root, name);
      return {
        home,
        dataDir: join(home, 'data'),
        config: join(home, 'patroni.yml'),
        pgpass: join(home, 'pgpass'),
        log: join(root, 'logs', `${name}.log`),
      };
    },
  };
}

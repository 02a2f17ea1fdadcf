// The load balancer in front of the replicas: HAProxy playing Service + Endpoints. One frontend on a free
// loopback port, one backend with no static servers; replicas are added and removed at run time through the
// admin socket (`add server` / `del server`, HAProxy >= 2.5 without experimental mode), as endpoints come and
// go in Kubernetes. Health checks on /ready stand in for the readiness that removes a failing pod.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { sleep, waitFor } from '../wait.ts';
import { freePort } from './ports.ts';
import { spawnGroup, type ProcessGroup } from './processes.ts';

export const HAPROXY_BIN = '/usr/sbin/haproxy';
const BACKEND = 'app';
/**
 * Checks every 1 s, down after 2 failures, up after 1 success. Not faster: every check costs the replica
 * CPU, which the autoscaler counts. A pod whose container died is not left to these checks: the cluster
 * takes it out at once (`setServerState(name, 'maint')`).
 */
const CHECK = 'check inter 1s fall 2 rise 1';

export interface LoadBalancer {
  readonly port: number;
  readonly baseUrl: string;
  /** Adds a replica and enables it with health checks; resolves when HAProxy sees it UP. */
  addServer(name: string, port: number, signal?: AbortSignal): Promise<void>;
  /** Takes a replica out of rotation at once (maint) and deletes it once its connections are gone. */
  removeServer(name: string): Promise<void>;
  /**
   * Endpoint readiness as the endpoints controller sees it: 'maint' the moment a pod's container dies
   * (kubelet reports it within a second; HAProxy's own checks would need fall x inter), 'ready' to hand the
   * server back to its health checks once the restarted pod is ready.
   */
  setServerState(name: string, state: 'maint' | 'ready'): Promise<void>;
  /** Operational state per server name ('UP', 'DOWN', 'MAINT', ...). */
  serverStates(): Promise<Map<string, string>>;
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

export function haproxyConfig(port: number, socket: string): string {
  return `global
  stats socket ${socket} mode 600 level admin expose-fd listeners
  maxconn 4096
  log stderr format short local0 notice

defaults
  mode http
  log global
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 10s

frontend web
  bind 127.0.0.1:${port}
  default_backend ${BACKEND}

backend ${BACKEND}
  balance roundrobin
  option httpchk GET /ready
  http-check expect status 200
`;
}

/**
 * One command over the admin socket (non-interactive: HAProxy answers and closes). A busy HAProxy can
 * have the socket's small accept backlog full for a moment (ECONNREFUSED / EAGAIN on a unix socket): that
 * is retried a few times with a growing pause, anything else is not.
 */
export async function socketCommand(socket: string, line: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await socketCommandOnce(socket, line);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'ECONNREFUSED' && code !== 'EAGAIN')) throw error;
      await sleep(25 * 2 ** attempt);
    }
  }
}

function socketCommandOnce(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let out = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (out += chunk));
    conn.on('error', reject);
    conn.on('end', () => resolve(out));
    conn.on('connect', () => conn.write(line + '\n'));
  });
}

/** `test` as a probe for `waitFor`: true, or undefined while it is false or fails (not there yet). */
const until = (test: () => Promise<boolean>) => async (): Promise<true | undefined> => {
  try {
    return (await test()) ? true : undefined;
  } catch {
    return undefined;
  }
};

export async function startHaproxy(runDir: string, signal?: AbortSignal): Promise<LoadBalancer> {
  const dir = join(runDir, 'haproxy');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(port, socket));
  const logFile = join(runDir, 'logs', 'haproxy.log');
  const group: ProcessGroup = spawnGroup({
    name: 'haproxy',
    runDir,
    command: HAPROXY_BIN,
    args: ['-db', '-f', configFile],
    logFile,
  });
  const command = (line: string) => socketCommand(socket, line);
  await waitFor(until(async () => (await command('show info')).includes('Name: HAProxy')), {
    what: 'answer on the HAProxy admin socket',
    timeoutMs: 10_000,
    signal,
    intervalMs: 100,
    hint: `see ${logFile}`,
    failFast: () => {
      if (!group.alive()) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`HAProxy exited; see ${logFile}`);
    },
  }).catch(async (error: unknown) => {
    await group.stop(1000);
    throw error;
  });

  const serverStates = async () => {
    // `show servers state <backend>`: version line, header, then one row per server:
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
    const text = await command(`show servers state ${BACKEND}`);
    const states = new Map<string, string>();
    for (const row of text.split('\n')) {
      const cols = row.trim().split(/\s+/);
      if (cols.length < 7 || cols[1] !== BACKEND) continue;
      const op = Number(cols[5]);
      const admin = Number(cols[6]);
      // srv_op_state: 0 stopped, 1 starting, 2 running, 3 stopping; admin bit 0x01/0x02 forced/inherited maint.
      const state = admin & 0x03 ? 'MAINT' : admin & 0x08 ? 'DRAIN' : op === 2 ? 'UP' : op === 0 ? 'DOWN' : op === 3 ? 'STOPPING' : 'STARTING';
      states.set(cols[3] ?? '', state);
    }
    return states;
  };

  const expectOk = async (line: string) => {
    const answer = (await command(line)).trim();
    // Success is an empty answer or a short confirmation; errors name what went wrong.
    if (/error|unknown|no such|not found|cannot|invalid|require/i.test(answer) && !/^New server registered/.test(answer)) {
      throw errors.SLO_ERR_ENV_PROCESS_FAILED(`HAProxy refused "${line}": ${answer}`);
    }
    return answer;
  };

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    command,
    serverStates,
    async addServer(name, serverPort, abort) {
      await expectOk(`add server ${BACKEND}/${name} 127.0.0.1:${serverPort} ${CHECK}`);
      await expectOk(`enable health ${BACKEND}/${name}`);
      await expectOk(`enable server ${BACKEND}/${name}`);
      await waitFor(until(async () => (await serverStates()).get(name) === 'UP'), { what: `${name} UP in HAProxy`, timeoutMs: 10_000, signal: abort, intervalMs: 100 });
    },
    async setServerState(name, state) {
      await command(`set server ${BACKEND}/${name} state ${state}`);
    },
    async removeServer(name) {
      await command(`set server ${BACKEND}/${name} state maint`);
      // No `shutdown sessions`: like kube-proxy, removing an endpoint leaves requests already on their way to
      // it alone; a draining pod finishes them and closes its keep-alive connections itself.
      // `del server` needs the server in maintenance with no connections left; idle ones are purged lazily.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const answer = (await command(`del server ${BACKEND}/${name}`)).trim();
        if (/deleted|No such server|not found/i.test(answer) || answer === '') return;
        if (Date.now() > deadline) return; // left in maintenance: takes no traffic, harmless
        await sleep(200);
      }
    },
    async stop() {
      await group.stop(2_000);
    },
  };
}

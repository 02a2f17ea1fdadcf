// The load balancer in front of the replicas: HAProxy playing Service + Endpoints. One frontend on a free
// loopback port, one backend with no static servers; replicas are added and removed at run time through the
// admin socket (`add server` / `del server`, HAProxy >= 2.5 without experimental mode), as endpoints come and
// go in Kubernetes. Health checks on /ready stand in for the readiness that removes a failing pod.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { errors } from '../../contract/errors.ts';
import { freePort, sleep, spawnGroup, type ProcessGroup } from './processes.ts';

export const HAPROXY_BIN = '/usr/sbin/haproxy';
const BACKEND = 'app';
/** Checks every 500 ms, down after 2 failures, up after 1 success. */
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

/** One command over the admin socket (non-interactive: HAProxy answers and closes). */
export function socketCommand(socket: string, line: string): Promise<string> {
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

async function waitFor(what: string, test: () => Promise<boolean>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await test()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw errors.SLO_ERR_ENV_TIMEOUT(`${what} within ${timeoutMs} ms`);
    await sleep(100, signal);
  }
}

export async function startHaproxy(runDir: string, signal?: AbortSignal): Promise<LoadBalancer> {
  const dir = join(runDir, 'haproxy');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(port, socket));
  const group: ProcessGroup = spawnGroup({
    name: 'haproxy',
    runDir,
    command: HAPROXY_BIN,
    args: ['-db', '-f', configFile],
    logFile: join(runDir, 'logs', 'haproxy.log'),
  });
  const command = async (line: string) => {
    const answer = await socketCommand(socket, line);
    return answer;
  };
  await waitFor('HAProxy admin socket answers', async () => {
    if (!group.alive()) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`HAProxy exited; see ${join(runDir, 'logs', 'haproxy.log')}`);
    return (await command('show info')).includes('Name: HAProxy');
  }, 10_000, signal).catch(async (error: unknown) => {
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
      await waitFor(`HAProxy sees ${name} UP`, async () => (await serverStates()).get(name) === 'UP', 10_000, abort);
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

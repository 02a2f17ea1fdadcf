// A small closed-loop HTTP client for the local cluster's tests: a few workers sending GETs through one
// keep-alive agent (as k6 does), recording every outcome with the version/instance headers it came with.
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Outcome {
  t: number;
  status: number; // 0 when no response arrived
  version: string | undefined;
  instance: string | undefined;
  error: string | undefined;
}

export interface LoadLoop {
  outcomes: Outcome[];
  stop(): Promise<Outcome[]>;
}

function once(agent: Agent, url: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const t = Date.now();
    const req = request(url, { agent, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ t, status: res.statusCode ?? 0, version: res.headers['x-app-version'] as string | undefined, instance: res.headers['x-instance-id'] as string | undefined, error: undefined }),
      );
      res.on('error', (error) => resolve({ t, status: 0, version: undefined, instance: undefined, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ t, status: 0, version: undefined, instance: undefined, error: error.message }));
    req.end();
  });
}

/** Starts `workers` loops against `url`, each pausing `pauseMs` between requests. */
export function startLoadLoop(url: string, workers = 4, pauseMs = 10): LoadLoop {
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      outcomes.push(await once(agent, url));
      await sleep(pauseMs);
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return outcomes;
    },
  };
}

export const failed = (outcomes: readonly Outcome[]) => outcomes.filter((o) => o.status !== 200);

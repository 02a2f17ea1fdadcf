// A small closed-loop HTTP load for tests: a few keep-alive clients (node:http Agent), each sending one
// request after another with a short pause, recording every outcome. Deliberately modest: two cores are
// shared with other test suites.
import http from 'node:http';

export interface Outcome {
  at: number;
  status: number; // 0 = no response (connection refused, reset, timeout)
  error?: string;
  connectionClose: boolean;
}

export interface LoadRun {
  outcomes: Outcome[];
  stop(): Promise<void>;
}

export function get(agent: http.Agent, url: string, timeoutMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const at = Date.now();
    const request = http.get(url, { agent, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () => resolve({ at, status: response.statusCode ?? 0, connectionClose: response.headers.connection === 'close' }));
      response.once('error', (err) => resolve({ at, status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message, connectionClose: false }));
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', (err) => resolve({ at, status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message, connectionClose: false }));
  });
}

export function startLoad(options: { baseUrl: string; clients: number; pauseMs: number; path: (n: number) => string }): LoadRun {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const outcomes: Outcome[] = [];
  let stopped = false;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      outcomes.push(await get(agent, `${options.baseUrl}${options.path(n++)}`));
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const workers = Array.from({ length: options.clients }, () => worker());
  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

export const failed = (o: Outcome): boolean => o.status === 0 || o.status >= 500;

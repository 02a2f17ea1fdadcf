// Prometheus scraping every replica, as the Prometheus Operator would through a ServiceMonitor: targets come
// from a file_sd file rewritten whenever replicas come and go. Storage lives under the run dir.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { errors } from '../../contract/errors.ts';
import { waitFor } from '../wait.ts';
import { freePort } from './ports.ts';
import { spawnGroup } from './processes.ts';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeTarget {
  port: number;
  pod: string;
  version: string;
}

export interface PrometheusServer {
  readonly url: string;
  setTargets(targets: readonly ScrapeTarget[]): void;
  stop(): Promise<void>;
}

/**
 * 2 s, not 1 s: every scrape costs each replica CPU, which the autoscaler counts, and up to 20 replicas share
 * 2 cores with the load generator. Step windows are tens of seconds, so each still holds many samples.
 */
export const SCRAPE_INTERVAL_S = 2;

export function prometheusConfig(targetsFile: string): string {
  return stringify({
    global: { scrape_interval: `${SCRAPE_INTERVAL_S}s`, scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'app', file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }] }],
  });
}

export async function startPrometheus(runDir: string, signal?: AbortSignal): Promise<PrometheusServer> {
  const dir = join(runDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const targetsFile = join(dir, 'targets.json');
  const configFile = join(dir, 'prometheus.yml');
  const setTargets = (targets: readonly ScrapeTarget[]) => {
    const groups = targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { pod: t.pod, version: t.version } }));
    // Written aside then renamed, so Prometheus never reads half a file.
    writeFileSync(targetsFile + '.tmp', JSON.stringify(groups));
    renameSync(targetsFile + '.tmp', targetsFile);
  };
  setTargets([]);
  writeFileSync(configFile, prometheusConfig(targetsFile));
  const port = await freePort();
  const logFile = join(runDir, 'logs', 'prometheus.log');
  const group = spawnGroup({
    name: 'prometheus',
    runDir,
    command: PROMETHEUS_BIN,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = async () => {
    try {
      return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined;
    } catch {
      return undefined; // not listening yet
    }
  };
  await waitFor(ready, {
    what: 'ready Prometheus',
    timeoutMs: 30_000,
    signal,
    intervalMs: 200,
    hint: `see ${logFile}`,
    failFast: () => {
      if (!group.alive()) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`Prometheus exited; see ${logFile}`);
    },
  }).catch(async (error: unknown) => {
    // Not handed to the cluster yet, so its down() would not stop it.
    await group.stop(1000);
    throw error;
  });
  return { url, setTargets, stop: async () => void (await group.stop(3_000)) };
}

interface VectorResponse {
  status: string;
  data?: { resultType: string; result: { value: [number, string] }[] };
  error?: string;
}

async function instantQuery(prometheusUrl: string, query: string, atMs: number): Promise<number | null> {
  const params = new URLSearchParams({ query, time: (atMs / 1000).toFixed(3) });
  const response = await fetch(`${prometheusUrl}/api/v1/query?${params}`);
  const body = (await response.json()) as VectorResponse;
  if (body.status !== 'success') throw errors.SLO_ERR_ENV_PROCESS_FAILED(`Prometheus query failed: ${body.error ?? response.status}`);
  const value = body.data?.result[0]?.value[1];
  if (value === undefined) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/**
 * The service's own p95 latency over [fromMs, toMs], from its `http_request_duration_seconds` histogram,
 * and how many requests it counted there. p95Ms is null when no request was observed.
 */
export async function queryServerP95(prometheusUrl: string, fromMs: number, toMs: number): Promise<{ p95Ms: number | null; requests: number }> {
  // rate() needs two samples: never a window shorter than two scrape intervals.
  const windowS = Math.max(2 * SCRAPE_INTERVAL_S, Math.ceil((toMs - fromMs) / 1000));
  const p95 = await instantQuery(prometheusUrl, `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[${windowS}s])))`, toMs);
  const requests = await instantQuery(prometheusUrl, `sum(increase(http_requests_total[${windowS}s]))`, toMs);
  return { p95Ms: p95 === null ? null : p95 * 1000, requests: requests ?? 0 };
}

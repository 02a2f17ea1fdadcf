// `--cluster url`: a service already running somewhere, reached at one URL, with no cluster behind it that
// the harness could observe or act on (a VM, a PaaS, a service started by hand or by a test). The load,
// latency, errors, availability and the /metrics check are judged as on any target; a spec that asks for
// a rollout, a kill, a failover or a scale is refused before any load (the adapter has none of these
// abilities), and so is a step that expects scaling (there are no replicas to see). Nothing is started here,
// so there is nothing to tear down or reap.
import { errors, SloError } from '../../contract/errors.ts';
import type { Cluster, ClusterContext, ClusterFactory, ClusterOptions, Endpoint } from '../types.ts';
import { waitFor } from '../wait.ts';

export interface UrlTargetSettings {
  /** Where the load goes: the service's base URL (a load balancer, never one replica). */
  serviceUrl: string;
  /** Answers 2xx once the service takes traffic (the reference service's `/ready`). */
  readyPath: string;
  /** How long `up` waits for readyPath before the run is invalid (exit 3). */
  readyTimeoutS: number;
}

export function parseUrlTargetSettings(raw: ClusterOptions['settings']): UrlTargetSettings {
  const serviceUrl = raw?.serviceUrl === undefined || raw.serviceUrl === '' ? undefined : String(raw.serviceUrl);
  if (!serviceUrl) {
    throw errors.SLO_ERR_CLI_USAGE('--cluster url needs the service\'s address', 'add --set serviceUrl=http://host:port (the base URL the load should hit)');
  }
  let parsed: URL;
  try {
    parsed = new URL(serviceUrl);
  } catch {
    throw errors.SLO_ERR_CLI_USAGE(`--set serviceUrl=${serviceUrl} is not a URL`, 'e.g. --set serviceUrl=http://127.0.0.1:8080');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw errors.SLO_ERR_CLI_USAGE(`--set serviceUrl=${serviceUrl}: only http and https are load-tested`, 'e.g. --set serviceUrl=http://127.0.0.1:8080');
  }
  const readyPath = raw?.readyPath === undefined ? '/ready' : String(raw.readyPath);
  if (!readyPath.startsWith('/')) throw errors.SLO_ERR_CLI_USAGE(`--set readyPath=${readyPath} must start with /`, 'e.g. --set readyPath=/healthz');
  const timeout = raw?.readyTimeoutS === undefined ? 60 : Number(raw.readyTimeoutS);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw errors.SLO_ERR_CLI_USAGE(`--set readyTimeoutS=${String(raw?.readyTimeoutS)} must be a positive number of seconds`, 'e.g. --set readyTimeoutS=60');
  }
  return { serviceUrl: serviceUrl.replace(/\/+$/, ''), readyPath, readyTimeoutS: timeout };
}

export class UrlTarget implements Cluster {
  readonly name = 'url';
  readonly observesReplicas = false;
  private readonly settings: UrlTargetSettings;

  constructor(private readonly ctx: ClusterContext, options: ClusterOptions) {
    if (options.app !== undefined) throw errors.SLO_ERR_CLI_USAGE('--app starts a service; --cluster url judges one that already runs', 'start it yourself and pass --set serviceUrl=...');
    this.settings = parseUrlTargetSettings(options.settings);
  }

  async up(): Promise<Endpoint> {
    const url = `${this.settings.serviceUrl}${this.settings.readyPath}`;
    let last = 'no answer yet';
    await waitFor(async () => {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await response.body?.cancel();
        if (response.ok) return true;
        last = `answered ${response.status}`;
      } catch (error) {
        last = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
      }
      return undefined;
    }, {
      what: `2xx answer from ${url}`,
      timeoutMs: this.settings.readyTimeoutS * 1000,
      signal: this.ctx.signal,
      intervalMs: 500,
    }).catch((error: unknown) => {
      // waitFor names what it waited for; the user needs the last answer too.
      if (error instanceof SloError && error.code === errors.SLO_ERR_ENV_TIMEOUT.code) {
        throw errors.SLO_ERR_ENV_TIMEOUT(`${url} did not answer 2xx within ${this.settings.readyTimeoutS} s (last: ${last})`,
          'start the service first, or point --set readyPath= at a path that answers 2xx once it takes traffic');
      }
      throw error;
    });
    this.ctx.log(`service ready at ${this.settings.serviceUrl}`);
    return this.endpoint();
  }

  down(): Promise<void> {
    return Promise.resolve();
  }

  endpoint(): Endpoint {
    return { baseUrl: this.settings.serviceUrl };
  }
}

export const createUrlTarget: ClusterFactory = (ctx, options) => new UrlTarget(ctx, options);

// A watch that comes back: API servers end watch streams routinely (timeouts, restarts, load balancers),
// so every end is followed by a new watch after a short backoff, until stop(). A watch refused with 403
// or 404 is not retried (RBAC or a missing CRD will not fix itself mid-run); it is logged once.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { httpStatusOf } from './api-errors.ts';

export type WatchHandler = (type: 'ADDED' | 'MODIFIED' | 'DELETED' | string, obj: unknown) => void;

export class ResilientWatch {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  /** How many times a stream was opened; tests read it to see reconnects. */
  connections = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly query: Record<string, string>,
    private readonly onEvent: WatchHandler,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.connections++;
    try {
      this.controller = await new Watch(this.kc).watch(this.path, this.query, (type, obj) => {
        this.failures = 0;
        this.onEvent(type, obj);
      }, (err: unknown) => this.ended(err));
      if (this.stopped) this.controller.abort();
    } catch (err) {
      this.ended(err);
    }
  }

  private ended(err: unknown): void {
    if (this.stopped) return;
    const status = err ? httpStatusOf(err) : undefined;
    if (status === 403 || status === 404) {
      this.log(`kube: watch ${this.path} refused with ${status}; not observing it for the rest of the run`);
      this.stopped = true;
      return;
    }
    this.failures++;
    const delayMs = err ? Math.min(5_000, 200 * 2 ** Math.min(this.failures, 5)) : 100;
    if (err) this.log(`kube: watch ${this.path} ended (${(err as Error).message ?? String(err)}); reconnecting in ${delayMs} ms`);
    this.timer = setTimeout(() => void this.connect(), delayMs);
    this.timer.unref();
  }
}

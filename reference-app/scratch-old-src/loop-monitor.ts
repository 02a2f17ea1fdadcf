// Liveness evidence: the worst event-loop delay over the last window. A process whose loop stalls for
// seconds is wedged and should be restarted; a merely busy one (CPU burn, load) must stay alive, so the
// limit is generous and the database is never consulted.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopHealth {
  /** Worst loop delay (ms) seen in the last completed window. */
  delayMs(): number;
  healthy(): boolean;
}

export class EventLoopMonitor implements LoopHealth {
  private histogram: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDelayMs = 0;

  constructor(
    private readonly maxDelayMs: number,
    private readonly windowMs = 1000,
  ) {}

  start(): this {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), this.windowMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.histogram?.disable();
  }

  delayMs(): number {
    // A stall still in progress when /health finally runs shows up in the current window.
    const current = this.histogram ? this.histogram.max / 1e6 : 0;
    return Math.max(this.lastDelayMs, current);
  }

  healthy(): boolean {
    return this.delayMs() <= this.maxDelayMs;
  }

  private sample(): void {
    if (!this.histogram) return;
    this.lastDelayMs = this.histogram.max / 1e6;
    this.histogram.reset();
  }
}

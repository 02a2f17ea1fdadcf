// Bounded polling that stops at once when the run is aborted.
import { errors } from '../../../contract/errors.ts';

export interface WaitOptions {
  what: string; // for the error message: "a primary and a synchronous standby"
  timeoutMs: number;
  signal: AbortSignal;
  intervalMs?: number;
  /** Checked on every round: throw to give up early (a daemon died, say). */
  failFast?: () => void;
}

/** Polls `probe` until it returns a value other than undefined; SLO_ERR_ENV_TIMEOUT after the timeout. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    throwIfAborted(options.signal, options.what);
    options.failFast?.();
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw errors.SLO_ERR_ENV_TIMEOUT(`no ${options.what} after ${Math.round(options.timeoutMs / 1000)} s`, 'see <runDir>/db/logs');
    }
    await sleep(options.intervalMs ?? 250, options.signal);
  }
}

export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw errors.SLO_ERR_RUN_ABORTED(`aborted while waiting for ${what}`);
}

/** Sleeps, but wakes early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// Waiting inside the cluster adapters, with ONE behaviour when the run is aborted:
//
//   `sleep(ms, signal)` resolves early when `signal` aborts, and never rejects.
//
// The loop around a sleep decides what an abort means: a wait for something to come up throws
// SLO_ERR_RUN_ABORTED (`throwIfAborted`, or `waitFor` which does it every round), a watcher simply stops.
// Why not let the sleep reject, as `node:timers/promises` does: it rejects with a bare AbortError (or the
// abort's reason, whatever the aborter passed), which every caller would have to translate into the
// catalog's code, and loops that only stop would need a catch to swallow it.
import { setTimeout as delay } from 'node:timers/promises';
import { errors } from '../contract/errors.ts';

/** Sleeps `ms`; wakes early, without throwing, when `signal` aborts (at once if it already has). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw errors.SLO_ERR_RUN_ABORTED(`aborted while waiting for ${what}`);
}

export interface WaitOptions {
  /** What is awaited, for the messages: "a primary with a synchronous standby". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Pause between probes (default 250 ms). */
  intervalMs?: number;
  /** Checked on every round: throw to give up early (a daemon died, say). */
  failFast?: () => void;
  /** Where to look when it times out ("see <log file>"). */
  hint?: string;
}

/**
 * Polls `probe` until it returns something other than undefined. A probe that throws ends the wait with
 * its error (a probe that can fail transiently catches and returns undefined itself). Throws
 * SLO_ERR_RUN_ABORTED when `signal` aborts and SLO_ERR_ENV_TIMEOUT after `timeoutMs`.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    throwIfAborted(options.signal, options.what);
    options.failFast?.();
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw errors.SLO_ERR_ENV_TIMEOUT(`no ${options.what} after ${Math.round(options.timeoutMs / 1000)} s`, options.hint);
    }
    await sleep(options.intervalMs ?? 250, options.signal);
  }
}

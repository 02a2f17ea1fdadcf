// The service's logger: pino JSON lines on stdout, written asynchronously. pino's default destination
// writes each line with a synchronous write(2) on the event loop, so a log reader that falls behind (a full
// pipe to the container runtime or to a log file) stalls every request in the process,
// and each line costs a syscall on the request path (order writes log one). Here lines are queued in memory
// and written by libuv's thread pool as soon as the previous write completes: no batching delay, nothing
// written on the request path. The queue is bounded: past MAX_QUEUED_BYTES lines are dropped and counted
// (the `log_lines_dropped_total` metric) rather than letting a stuck reader exhaust memory. Queued lines
// are written before the process exits (close(), on every exit path of main.ts), within a deadline.
// pino 10's own default destination is asynchronous too, but unbounded and with no deadline at exit;
// this makes the choice explicit rather than a default that has changed between pino versions.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import type { AppConfig } from './config.ts';
import { traceOf } from './request-trace.ts';

/** About a minute of heavy logging; far more than a healthy reader ever lets build up. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export interface ServiceLogger {
  log: Logger;
  /** Lines dropped because the queue was full (the reader stalled). */
  droppedLines(): number;
  /** Write what is queued and stop; resolves after `timeoutMs` at the latest (a reader may never drain). */
  close(timeoutMs: number): Promise<void>;
}

export function createLogger(config: Pick<AppConfig, 'logLevel' | 'appVersion' | 'instanceId'>, fd = 1): ServiceLogger {
  const destination = pino.destination({ dest: fd, sync: false, minLength: 0, maxLength: MAX_QUEUED_BYTES });
  let dropped = 0;
  destination.on('drop', (data: string | Buffer) => {
    dropped += countLines(data);
  });
  let ended = false;
  // Once closing, a late line (a pool error while exiting, from any child logger) is dropped, not thrown.
  const stream = { write: (line: string) => (ended ? undefined : destination.write(line)) };
  const log = pino({
    level: config.logLevel,
    base: { service: 'reference-app', version: config.appVersion, instance: config.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, stream);

  let closing: Promise<void> | undefined;
  return {
    log,
    droppedLines: () => dropped,
    close(timeoutMs) {
      closing ??= (async () => {
        ended = true;
        const closed = once(destination, 'close').then(() => undefined, () => undefined);
        destination.end();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        const drained = await Promise.race([closed.then(() => true), deadline.then(() => false)]);
        clearTimeout(timer);
        // The reader never drained: give up on the queue, or pino's exit hook would block in a synchronous
        // write to the full pipe and the process would hang until SIGKILL.
        if (!drained) destination.destroy();
      })();
      return closing;
    },
  };
}

function countLines(data: string | Buffer): number {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return Math.max(lines, 1);
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = Parameters<Logger['info']>;

/**
 * A request's logger (Fastify's `request.log`): the parent's child with the request id bound, made on the
 * first line the request logs. Every line still carries `reqId` and, when tracing, the request's
 * `trace_id`, `span_id` and `trace_flags` (bound then: the route's hook attached the trace before the
 * handler runs); requests that log nothing never pay for a pino child.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
    private readonly request?: IncomingMessage,
  ) {}

  private get logger(): FastifyBaseLogger {
    if (this.real === undefined) {
      const trace = this.request === undefined ? undefined : traceOf(this.request).logFields();
      this.real = this.parent.child(trace === undefined ? this.bindings : { ...this.bindings, ...trace }, this.options);
    }
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  private write(method: LogMethod, args: LogArgs): void {
    const logger = this.logger;
    (logger[method] as (...a: LogArgs) => void).apply(logger, args);
  }
}

// Graceful shutdown, in the order Kubernetes needs it:
//   1. readiness 503 at once (endpoints controller starts removing us),
//   2. keep serving for DRAIN_DELAY_MS while that removal propagates to every kube-proxy / load balancer
//      (the role a preStop sleep plays), with `Connection: close` so keep-alive clients move away,
//   3. app.close(): stop accepting, finish in-flight requests, drop idle keep-alive sockets,
//   4. close the pools and flush telemetry, exit 0.
// A hard timer exits 1 if all that overruns SHUTDOWN_TIMEOUT_MS (kubelet would SIGKILL us anyway).

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShutdownDeps {
  startDraining(): void;
  /** Stop accepting and wait for in-flight requests (fastify close). */
  closeServer(): Promise<void>;
  /** Pools, probes, telemetry: everything after the server. */
  closeResources(): Promise<void>;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  log: ShutdownLogger;
  exit(code: number): void;
}

export function createShutdown(deps: ShutdownDeps): (signal: string) => Promise<void> {
  let started = false;
  return async (signal) => {
    if (started) {
      deps.log.info({ signal }, 'shutdown already in progress');
      return;
    }
    started = true;
    const begun = Date.now();
    const hardStop = setTimeout(() => {
      deps.log.error({ signal, timeoutMs: deps.shutdownTimeoutMs }, 'shutdown timed out; exiting hard');
      deps.exit(1);
    }, deps.shutdownTimeoutMs);
    hardStop.unref();

    deps.startDraining();
    deps.log.info({ signal, drainDelayMs: deps.drainDelayMs }, 'draining: readiness is now 503');
    try {
      await new Promise((resolve) => setTimeout(resolve, deps.drainDelayMs));
      deps.log.info({ elapsedMs: Date.now() - begun }, 'drain delay over: closing the server');
      await deps.closeServer();
      await deps.closeResources();
      deps.log.info({ elapsedMs: Date.now() - begun }, 'shutdown complete');
      clearTimeout(hardStop);
      deps.exit(0);
    } catch (err) {
      deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
      clearTimeout(hardStop);
      deps.exit(1);
    }
  };
}

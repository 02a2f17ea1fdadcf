// Liveness evidence and the shutdown sequence, in-process.
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../src/loop-monitor.ts';
import { burnCpu } from '../src/routes/cpu.ts';
import { createShutdown } from '../src/shutdown.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = { info: () => undefined, error: () => undefined };

describe('EventLoopMonitor', () => {
  it('reports unhealthy after a stall longer than the limit, healthy again once the loop runs freely', async () => {
    const monitor = new EventLoopMonitor(150, 100).start();
    try {
      await sleep(250);
      expect(monitor.healthy()).toBe(true);
      burnCpu(400); // blocks the loop, as a wedged process would
      await sleep(20);
      expect(monitor.healthy()).toBe(false);
      expect(monitor.delayMs()).toBeGreaterThan(150);
      await sleep(350);
      expect(monitor.healthy()).toBe(true);
    } finally {
      monitor.stop();
    }
  });
});

describe('createShutdown', () => {
  it('drains, then closes the server, then resources, then exits 0; a second signal is ignored', async () => {
    const steps: string[] = [];
    let exitCode: number | undefined;
    const shutdown = createShutdown({
      startDraining: () => steps.push('drain'),
      closeServer: async () => { steps.push('close-server'); },
      closeResources: async () => { steps.push('close-resources'); },
      drainDelayMs: 100,
      shutdownTimeoutMs: 2000,
      log: silent,
      exit: (code) => { steps.push(`exit ${code}`); exitCode = code; },
    });
    const first = shutdown('SIGTERM');
    expect(steps).toEqual(['drain']); // readiness flips at once, before any delay
    await shutdown('SIGINT');
    await first;
    expect(steps).toEqual(['drain', 'close-server', 'close-resources', 'exit 0']);
    expect(exitCode).toBe(0);
  });

  it('exits 1 when closing overruns SHUTDOWN_TIMEOUT_MS', async () => {
    const codes: number[] = [];
    const shutdown = createShutdown({
      startDraining: () => undefined,
      closeServer: () => new Promise<void>(() => undefined), // an in-flight request that never ends
      closeResources: async () => undefined,
      drainDelayMs: 0,
      shutdownTimeoutMs: 200,
      log: silent,
      exit: (code) => codes.push(code),
    });
    void shutdown('SIGTERM');
    await sleep(400);
    expect(codes).toEqual([1]);
  });
});

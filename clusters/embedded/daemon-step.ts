// The shape most steps share: write a config file or two, start one daemon, wait until its health
// endpoint answers; teardown stops it and removes what it wrote.
import { join } from 'node:path';
import { waitFor } from '../wait.ts';
import { assertRunning, runningPid, startDaemon, stopDaemon } from './daemons.ts';
import { probe, type ProbeOptions } from './health.ts';
import type { Layout } from './layout.ts';
import type { Step, StepContext } from './steps.ts';

export interface DaemonStepSpec {
  name: string;
  /** Program name in the bin folder, or an absolute path (containerd from Debian). */
  binary: string;
  args: readonly string[];
  /** Ready when this URL answers 2xx ... */
  healthUrl?: string;
  probe?: ProbeOptions;
  /** ... or when this check resolves true (containerd has no HTTP health endpoint). */
  ready?: () => Promise<true | undefined>;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Before the start: config files, folders. */
  prepare?: (ctx: StepContext) => Promise<void> | void;
  /** After the stop: what the daemon left (data folders, mounts). */
  cleanup?: (ctx: StepContext) => Promise<void> | void;
}

export function daemonStep(layout: Layout, spec: DaemonStepSpec): Step {
  const binary = spec.binary.startsWith('/') ? spec.binary : join(layout.binDir, spec.binary);
  const where = { name: spec.name, logDir: layout.logs, pidDir: layout.pids };
  return {
    name: spec.name,
    async up(ctx) {
      await spec.prepare?.(ctx);
      // A second `up` on a live cluster reuses the running daemon instead of failing on its port.
      if (runningPid(layout.pids, spec.name) === undefined) {
        startDaemon({ ...where, binary, args: spec.args, ...(spec.env ? { env: spec.env } : {}) });
      }
      const url = spec.healthUrl;
      const ready = spec.ready ?? (() => (url ? probe(url, spec.probe) : Promise.resolve<true>(true)));
      await waitFor(ready, {
        what: `${spec.name} healthy${url ? ` at ${url}` : ''}`,
        timeoutMs: spec.timeoutMs ?? 120_000,
        signal: ctx.signal,
        intervalMs: 500,
        failFast: () => assertRunning(where),
        hint: `see ${join(layout.logs, `${spec.name}.log`)}`,
      });
    },
    async down(ctx) {
      await stopDaemon(layout.pids, spec.name);
      await spec.cleanup?.(ctx);
    },
  };
}

// Readiness = "send me traffic": a primary answers AND we are not draining. A dedicated one-connection
// pool probes the database on a timer so a saturated request pool can never make the probe (and thus the
// pod) flap, and the probe asks pg_is_in_recovery() because a replica that answers cannot take writes.
import type { Pool, Logger } from './db.ts';
import { describeError } from './db.ts';

export type DatabaseState = 'unknown' | 'primary' | 'replica' | 'down';

export interface ReadinessSnapshot {
  ready: boolean;
  database: DatabaseState;
  draining: boolean;
  /** Why the last probe failed, when it did. */
  reason?: string;
}

/** What the HTTP layer needs: a snapshot, plus the hooks that flip it. */
export interface ReadinessView {
  snapshot(): ReadinessSnapshot;
  isDraining(): boolean;
}

export class Readiness implements ReadinessView {
  private database: DatabaseState = 'unknown';
  private draining = false;
  private reason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly probePool: Pool,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Probe once now (so start-up readiness is accurate), then every interval. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  snapshot(): ReadinessSnapshot {
    const snapshot: ReadinessSnapshot = {
      ready: this.database === 'primary' && !this.draining,
      database: this.database,
      draining: this.draining,
    };
    if (this.reason !== undefined) snapshot.reason = this.reason;
    return snapshot;
  }

  isDraining(): boolean {
    return this.draining;
  }

  /** A pool reported a lost connection: stop advertising readiness until the next probe succeeds. */
  markDatabaseSuspect(reason: string): void {
    this.setDatabase('down', reason);
  }

  startDraining(): void {
    this.draining = true;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.probePool.end().catch(() => undefined);
  }

  probe(): Promise<void> {
    // Never stack probes: a hung database must not pile up connections attempts.
    this.inFlight ??= this.runProbe().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runProbe(): Promise<void> {
    try {
      const result = await this.probePool.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
      this.setDatabase(result.rows[0]?.in_recovery ? 'replica' : 'primary', undefined);
    } catch (err) {
      this.setDatabase('down', describeError(err).message);
    }
  }

  private setDatabase(state: DatabaseState, reason: string | undefined): void {
    if (state !== this.database) {
      const entry = reason === undefined ? { from: this.database, to: state } : { from: this.database, to: state, reason };
      if (state === 'primary') this.log.info(entry, 'database state changed');
      else this.log.warn(entry, 'database state changed');
    }
    this.database = state;
    this.reason = reason;
  }
}

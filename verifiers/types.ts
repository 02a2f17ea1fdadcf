// What a verifier returns. Verifiers are pure: (timeline records, spec) -> verdicts. They never talk to a
// cluster, so a stored run can be judged again later against a changed spec.

export type VerdictStatus = 'pass' | 'fail' | 'invalid';

export interface Threshold {
  op: '<' | '<=' | '>' | '>=' | '==';
  value: number;
  unit: string; // 'ms', '%', 's', 'replicas', 'requests', 'writes', 'bool'
}

export interface Verdict {
  /** Stable id, e.g. `latency.p95`, `latency.p95.phase.spike`, `failover.recovery`. */
  id: string;
  /** Human statement of the objective, e.g. "p95 latency < 200 ms". */
  slo: string;
  status: VerdictStatus;
  /** The measured value in the threshold's unit; null when there was not enough data to measure. */
  measured: number | null;
  threshold: Threshold;
  /** The stretch of the run judged (epoch ms) and its name (whole run, a phase, a window). */
  window: { from: number; to: number; label: string };
  evidence: {
    samples: number;
    /** Short lines a human can check against the timeline: events used, worst window, ids lost... */
    notes: string[];
    /** Extra numbers for reports (client and server p95 side by side, per-window series...). */
    detail?: Record<string, unknown>;
  };
  /** Why it failed or why it could not be judged. */
  reason?: string;
}

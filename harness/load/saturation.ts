// Decides when the load generator, not the service, is the bottleneck. A run whose generator could not
// produce the asked load is invalid: its latencies and rates say nothing about the service.
import type { LoadRecord } from '../timeline.ts';

export interface SaturationLimits {
  /** Dropped iterations tolerated: max(minDropped, droppedRatio x iterations so far). */
  minDropped: number;
  droppedRatio: number;
  /** Achieved / asked iterations over `windowS` seconds below this is saturation. */
  minAchievedRatio: number;
  windowS: number;
  /** k6 using this share of all cores is the bottleneck itself. */
  maxCpuShare: number;
  /** k6 threads waiting for a CPU this many times longer than they run: starved by other processes. */
  maxRunQueueWaitRatio: number;
}

export const DEFAULT_LIMITS: SaturationLimits = {
  minDropped: 5, droppedRatio: 0.01, minAchievedRatio: 0.95, windowS: 5, maxCpuShare: 0.9, maxRunQueueWaitRatio: 4,
};

export interface CpuWindow {
  /** Seconds of CPU k6 used, of wall time, and spent runnable but waiting for a CPU, over the same window. */
  cpuS: number;
  wallS: number;
  waitS: number;
  cores: number;
}

export class SaturationDetector {
  private readonly limits: SaturationLimits;
  private readonly window: LoadRecord[] = [];
  private iterations = 0;
  private dropped = 0;
  private inPlanAsked = 0;
  private inPlanAchieved = 0;
  private inPlanSeconds = 0;

  constructor(limits: Partial<SaturationLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /**
   * Feed each closed second; `inPlan` says the whole second lies inside the executors' schedule (the first
   * and last seconds are partial, and iterations finishing after their second would skew them).
   */
  onSecond(record: LoadRecord, inPlan: boolean): string | null {
    this.iterations += record.iterations;
    this.dropped += record.dropped;
    const tolerated = Math.max(this.limits.minDropped, this.limits.droppedRatio * this.iterations);
    if (this.dropped > tolerated) {
      return `k6 dropped ${this.dropped} iterations (tolerance ${Math.floor(tolerated)}): not enough VUs or CPU for the asked rate`;
    }
    if (!inPlan || record.targetRate === undefined) {
      this.window.length = 0;
      return null;
    }
    this.inPlanAsked += record.targetRate;
    this.inPlanAchieved += record.iterations;
    this.inPlanSeconds += 1;
    this.window.push(record);
    if (this.window.length > this.limits.windowS) this.window.shift();
    if (this.window.length < this.limits.windowS) return null;
    const asked = this.window.reduce((sum, r) => sum + (r.targetRate ?? 0), 0);
    const achieved = this.window.reduce((sum, r) => sum + r.iterations, 0);
    // One iteration of slack per second: an iteration that started in one second may end in the next.
    if (asked >= 10 && achieved + this.limits.windowS < this.limits.minAchievedRatio * asked) {
      return `k6 achieved ${(achieved / this.limits.windowS).toFixed(1)} iterations/s of ${(asked / this.limits.windowS).toFixed(1)} asked over ${this.limits.windowS} s`;
    }
    return null;
  }

  /** At the end: the same achieved/asked test over the whole schedule (short runs have no full window). */
  final(): string | null {
    const asked = this.inPlanAsked;
    if (asked >= 10 && this.inPlanAchieved + this.inPlanSeconds < this.limits.minAchievedRatio * asked) {
      return `k6 achieved ${this.inPlanAchieved} of ${Math.round(asked)} iterations asked over ${this.inPlanSeconds} s of schedule`;
    }
    return null;
  }

  onCpu(w: CpuWindow): string | null {
    if (w.wallS <= 0) return null;
    const share = w.cpuS / (w.wallS * w.cores);
    if (share >= this.limits.maxCpuShare) {
      return `k6 used ${(share * 100).toFixed(0)} % of ${w.cores} cores over ${w.wallS.toFixed(1)} s: the generator is the bottleneck`;
    }
    if (w.cpuS > 0.05 * w.wallS && w.waitS > this.limits.maxRunQueueWaitRatio * w.cpuS) {
      return `k6 waited ${w.waitS.toFixed(2)} s for a CPU while running ${w.cpuS.toFixed(2)} s over ${w.wallS.toFixed(1)} s: starved of CPU`;
    }
    return null;
  }
}

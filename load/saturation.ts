// Decides when the load generator, not the service, is the bottleneck. A run whose generator could not
// produce the asked load is invalid: its latencies and rates say nothing about the service.
import type { LoadRecord } from '../contract/timeline.ts';
import { REQUEST_TIMEOUT_S } from '../scenarios/lib/plan.ts';

export interface SaturationLimits {
  /** Dropped iterations tolerated: max(minDropped, droppedRatio x iterations so far). */
  minDropped: number;
  droppedRatio: number;
  /** Achieved / asked iterations over `windowS` seconds below this is saturation. */
  minAchievedRatio: number;
  windowS: number;
  /**
   * Iterations are counted when they end, so a slow service (a failover stalls requests for seconds) makes
   * completions lag their start by up to the request timeout. Up to that many seconds of the asked rate
   * may be in flight before a shortfall counts as the generator's.
   */
  inFlightS: number;
  /** The generator using this share of all cores is the bottleneck itself. */
  maxCpuShare: number;
  /**
   * Mean delay, in ms, between a generator thread becoming runnable and running. Above it its clock reads its own
   * queueing as the service's latency: starved by other processes. (Total wait time alone misleads: many
   * threads each waiting a little add up without delaying any one request much.)
   */
  maxMeanRunDelayMs: number;
}

export const DEFAULT_LIMITS: SaturationLimits = {
  minDropped: 5, droppedRatio: 0.01, minAchievedRatio: 0.95, windowS: 15, inFlightS: REQUEST_TIMEOUT_S, maxCpuShare: 0.9, maxMeanRunDelayMs: 10,
};

export interface CpuWindow {
  /** Seconds of CPU the generator used, of wall time, and spent runnable but waiting for a CPU, over the same window. */
  cpuS: number;
  wallS: number;
  waitS: number;
  /** Times the generator's threads were put on a CPU in the window. */
  slices: number;
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

  /** `generator` names the engine in the reasons ("k6", "the embedded engine"). */
  constructor(limits: Partial<SaturationLimits> = {}, private readonly generator = 'the load generator') {
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
      return `${this.generator} dropped ${this.dropped} iterations (tolerance ${Math.floor(tolerated)}): not enough workers or CPU for the asked rate`;
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
    const inFlight = (asked / this.limits.windowS) * this.limits.inFlightS;
    if (asked >= 10 && achieved + inFlight < this.limits.minAchievedRatio * asked) {
      return `${this.generator} achieved ${(achieved / this.limits.windowS).toFixed(1)} iterations/s of ${(asked / this.limits.windowS).toFixed(1)} asked over ${this.limits.windowS} s`;
    }
    return null;
  }

  /** At the end: the same achieved/asked test over the whole schedule (short runs have no full window). */
  final(): string | null {
    const asked = this.inPlanAsked;
    if (asked >= 10 && this.inPlanAchieved + this.inPlanSeconds < this.limits.minAchievedRatio * asked) {
      return `${this.generator} achieved ${this.inPlanAchieved} of ${Math.round(asked)} iterations asked over ${this.inPlanSeconds} s of schedule`;
    }
    return null;
  }

  onCpu(w: CpuWindow): string | null {
    if (w.wallS <= 0) return null;
    const share = w.cpuS / (w.wallS * w.cores);
    if (share >= this.limits.maxCpuShare) {
      return `${this.generator} used ${(share * 100).toFixed(0)} % of ${w.cores} cores over ${w.wallS.toFixed(1)} s: the generator is the bottleneck`;
    }
    const meanDelayMs = w.slices > 0 ? (w.waitS / w.slices) * 1000 : 0;
    if (meanDelayMs > this.limits.maxMeanRunDelayMs) {
      return `${this.generator}'s threads waited ${meanDelayMs.toFixed(1)} ms on average for a CPU each time they became runnable (${w.waitS.toFixed(2)} s in all over ${w.wallS.toFixed(1)} s): starved of CPU`;
    }
    return null;
  }
}

// CPU used by a process group, read from /proc/<pid>/stat (utime + stime of every live member), the way
// cAdvisor/metrics-server sums a container's cgroup. Children that already exited are not counted; app
// servers here are long-lived, so that loses nothing that matters.
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = 100;

interface Stat {
  pgrp: number;
  ticks: number;
}

function readStat(pid: string): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    return { pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by the live processes of each given group, in one pass over /proc. */
export function groupCpuSeconds(pgids: readonly number[]): Map<number, number> {
  const wanted = new Set(pgids);
  const totals = new Map<number, number>(pgids.map((pgid) => [pgid, 0]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (!stat || !wanted.has(stat.pgrp)) continue;
    totals.set(stat.pgrp, (totals.get(stat.pgrp) ?? 0) + stat.ticks / CLOCK_TICKS_PER_SECOND);
  }
  return totals;
}

/** Turns successive CPU-second readings into millicores over the interval between them. */
export class CpuMeter {
  private last = new Map<string, { seconds: number; at: number }>();

  /** Millicores used by `key` since the previous sample, or undefined on its first sample. */
  sample(key: string, cpuSeconds: number, at: number): { milli: number; windowMs: number } | undefined {
    const previous = this.last.get(key);
    this.last.set(key, { seconds: cpuSeconds, at });
    if (!previous || at <= previous.at) return undefined;
    const windowMs = at - previous.at;
    // A restarted group starts again from zero: treat a negative delta as a fresh start.
    const used = Math.max(0, cpuSeconds - previous.seconds);
    return { milli: (used * 1000 * 1000) / windowMs, windowMs };
  }

  forget(key: string): void {
    this.last.delete(key);
  }
}

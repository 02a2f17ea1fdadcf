// CPU used by a process and time its threads spent runnable but waiting for a CPU (Linux schedstat).
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuTotals {
  runS: number;
  waitS: number;
  /** Times a thread was put on a CPU: wait / slices is the mean delay from runnable to running. */
  slices: number;
  atMs: number;
}

/** Sums /proc/<pid>/task/<tid>/schedstat; null when the process is gone or /proc has no schedstat. */
export function readCpuTotals(pid: number): CpuTotals | null {
  try {
    let run = 0;
    let wait = 0;
    let slices = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [r, w, n] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
        run += Number(r);
        wait += Number(w);
        slices += Number(n);
      } catch {
        // the thread ended between readdir and read
      }
    }
    return { runS: run / 1e9, waitS: wait / 1e9, slices, atMs: Date.now() };
  } catch {
    return null;
  }
}

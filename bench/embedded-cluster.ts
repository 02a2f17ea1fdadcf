// `npm run bench -- embedded-cluster` (root): the embedded cluster's warm bring-up and its idle cost.
// Each round: up() through the adapter (as `slo up --cluster embedded` does: database, Kubernetes, the
// reference service, until the NodePort answers /ready), then 60 s idle with the CPU time of the cluster's
// own processes (control plane, kubelet, containerd and shims, CoreDNS, metrics-server) and of the reference
// pods read from /proc before and after, then down(). The binaries must be built already (the build is in
// clusters/embedded/BUILD.md). Prints a Markdown table for bench/RESULTS.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEmbeddedCluster } from '../clusters/embedded/index.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const IDLE_S = Number(process.env.IDLE_S ?? 60);
const CLOCK_TICKS = 100;

/** Cluster processes by what they run: the programs we built, containerd and its shims, the pods' programs. */
const GROUPS: Record<string, RegExp> = {
  'control plane (etcd, apiserver, controller-manager, scheduler)': /\/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$/,
  'node (kubelet, kube-proxy, containerd, shims)': /\/(kubelet|kube-proxy|containerd|containerd-shim-runc-v2)$/,
  'addons (CoreDNS, metrics-server)': /\/(coredns|metrics-server)$/,
  'reference service (3 pods)': /^node$|\/node$/,
};

function cpuTicksByGroup(): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(GROUPS).map((g) => [g, 0]));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      for (const [group, pattern] of Object.entries(GROUPS)) {
        // The service's node processes are told apart from the harness's own by their pod cgroup.
        const inPod = cgroup.includes('kubepods');
        if (pattern.test(argv0) && (group.startsWith('reference') ? inPod : true)) totals[group]! += ticks;
      }
    } catch {
      // gone meanwhile
    }
  }
  return totals;
}

interface Round { upS: number; downS: number; idle: Record<string, number>; load: [number, number] }

const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const runDir = mkdtempSync(join(tmpdir(), 'slo-bench-embedded-'));
  const load0 = loadavg()[0]!;
  const cluster = createEmbeddedCluster({ runDir, signal: new AbortController().signal, log: () => undefined, timeline: { event: () => undefined, load: () => undefined } as never }, { version: 'v1' });
  const t0 = performance.now();
  try {
    await cluster.up();
    const upS = (performance.now() - t0) / 1000;
    await sleep(20_000); // start-up work (JIT, first scrapes) is not idle cost
    const before = cpuTicksByGroup();
    await sleep(IDLE_S * 1000);
    const after = cpuTicksByGroup();
    const idle = Object.fromEntries(Object.keys(GROUPS).map((g) => [g, (after[g]! - before[g]!) / CLOCK_TICKS / IDLE_S]));
    const t1 = performance.now();
    await cluster.down();
    rounds.push({ upS, downS: (performance.now() - t1) / 1000, idle, load: [load0, loadavg()[0]!] });
    process.stderr.write(`round ${i + 1}: up ${upS.toFixed(1)} s\n`);
  } finally {
    await cluster.down();
    rmSync(runDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)} / **${median(xs).toFixed(digits)}** / ${Math.max(...xs).toFixed(digits)}`;
console.log(`| measure (n=${rounds.length}) | min / **median** / max |`);
console.log('| --- | ---: |');
console.log(`| up called -> reference service ready on the NodePort (s) | ${spread(rounds.map((r) => r.upS))} |`);
console.log(`| down (s) | ${spread(rounds.map((r) => r.downS))} |`);
for (const group of Object.keys(GROUPS)) console.log(`| idle CPU, ${group} (% of one core) | ${spread(rounds.map((r) => r.idle[group]! * 100))} |`);
console.log(`| idle CPU, all of the above (% of one core) | ${spread(rounds.map((r) => Object.values(r.idle).reduce((a, b) => a + b, 0) * 100))} |`);
console.log(`\nload average (1 min) before / after each round: ${rounds.map((r) => `${r.load[0].toFixed(1)} / ${r.load[1].toFixed(1)}`).join(', ')}`);

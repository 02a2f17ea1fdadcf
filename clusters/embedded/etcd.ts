// etcd v3.6: one member on loopback, plain HTTP as hack/local-up-cluster.sh runs it (nothing but the API
// server on this machine talks to it). Its data lives in the state folder and goes with the teardown.
import { rmSync } from 'node:fs';
import type { Layout } from './layout.ts';
import { daemonStep } from './daemon-step.ts';
import type { Step } from './steps.ts';

export function etcdArgs(layout: Layout): string[] {
  const client = `http://127.0.0.1:${layout.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  return [
    '--name=slo-embedded',
    `--data-dir=${layout.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=slo-embedded=${peer}`,
    // A test cluster's history is worthless: compact often, keep the database small.
    '--auto-compaction-retention=1',
    '--quota-backend-bytes=2147483648',
    '--log-level=warn',
  ];
}

export function etcdStep(layout: Layout): Step {
  return daemonStep(layout, {
    name: 'etcd',
    binary: 'etcd',
    args: etcdArgs(layout),
    healthUrl: `http://127.0.0.1:${layout.ports.etcdClient}/health`,
    timeoutMs: 60_000,
    cleanup: () => rmSync(layout.etcdData, { recursive: true, force: true }),
  });
}

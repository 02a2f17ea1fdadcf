// Waits for the node to report Ready: the kubelet registered it, containerd answers over CRI, and the CNI
// config is in place (the runtime's NetworkReady). Nothing to undo.
import { kubectl } from './kubectl.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';
import { waitFor } from '../wait.ts';

export function nodeReadyStep(layout: Layout): Step {
  return {
    name: 'node-ready',
    async up(ctx) {
      const jsonpath = '{.status.conditions[?(@.type=="Ready")].status}';
      await waitFor(async () => ((await kubectl(layout, ['get', 'node', layout.nodeName, '-o', `jsonpath=${jsonpath}`])).stdout.trim() === 'True' ? true : undefined), {
        what: `node ${layout.nodeName} Ready`, timeoutMs: 180_000, signal: ctx.signal, intervalMs: 1000,
        hint: `see ${layout.logs}/kubelet.log and kubectl --kubeconfig=${layout.adminKubeconfig} describe node`,
      });
    },
    async down() {},
  };
}

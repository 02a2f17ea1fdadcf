// Pods that will not start by waiting longer: a container in CrashLoopBackOff, an image that is not there
// (nothing is ever pulled here), a broken config. A rollout wait checks for them on every round and ends at
// once with the pod, the reason and the container's last log lines, instead of a five-minute timeout.
import { errors } from '../../contract/errors.ts';
import { kubectl } from './kubectl.ts';
import type { Layout } from './layout.ts';

/** Waiting reasons that do not fix themselves: the service crashes, or its image or config is wrong. */
const STUCK = new Set(['CrashLoopBackOff', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'InvalidImageName']);

interface PodStatusLike { metadata: { name: string }; status?: { containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[] } }

/** The first container stuck for good, as one line (pure). */
export function stuckContainer(pods: readonly PodStatusLike[]): { pod: string; reason: string; message: string } | undefined {
  for (const pod of pods) {
    for (const c of pod.status?.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason)) return { pod: pod.metadata.name, reason: waiting.reason, message: waiting.message ?? '' };
    }
  }
  return undefined;
}

/** Ends the wait at once, with the service's last words, instead of a five-minute timeout. */
export async function throwIfStuck(layout: Layout, namespace: string): Promise<void> {
  const listed = await kubectl(layout, ['-n', namespace, 'get', 'pods', '-o', 'json']);
  if (listed.exitCode !== 0) return;
  const stuck = stuckContainer((JSON.parse(listed.stdout) as { items: PodStatusLike[] }).items);
  if (!stuck) return;
  const logs = stuck.reason === 'CrashLoopBackOff' ? await kubectl(layout, ['-n', namespace, 'logs', stuck.pod, '--previous', '--tail=20']) : undefined;
  const lastWords = (logs?.stdout ?? '').trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' | ');
  throw errors.SLO_ERR_ENV_PROCESS_FAILED(`pod ${namespace}/${stuck.pod} is in ${stuck.reason}${stuck.message ? ` (${stuck.message.split('\n')[0]})` : ''}${lastWords ? `: ${lastWords}` : ''}`,
    `kubectl --kubeconfig=${layout.adminKubeconfig} -n ${namespace} describe pod ${stuck.pod}`);
}


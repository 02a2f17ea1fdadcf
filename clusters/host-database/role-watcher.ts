// Watches every member's role and writes a `db.role` event to the timeline on each change, so verifiers
// can see when the primary went away and when a new one took over.
import type { TimelineSink } from '../../contract/timeline.ts';
import { memberStatus, type MemberRole, type MemberStatus } from './patroni-rest.ts';
import { sleep } from '../wait.ts';

export const ROLE_EVENT_SOURCE = 'patroni';

export interface RoleWatcher {
  /** Latest status of each member, by name. */
  current(): ReadonlyMap<string, MemberStatus>;
  /** Polls once right now (also records changes); used by waits that need fresh data. */
  pollNow(): Promise<ReadonlyMap<string, MemberStatus>>;
  stop(): Promise<void>;
}

export function watchRoles(
  members: readonly { name: string; rest: number }[],
  timeline: TimelineSink,
  intervalMs = 500,
): RoleWatcher {
  const latest = new Map<string, MemberStatus>();
  const reported = new Map<string, MemberRole>();
  const stopped = new AbortController();

  async function pollNow(): Promise<ReadonlyMap<string, MemberStatus>> {
    const statuses = await Promise.all(members.map((m) => memberStatus(m.rest)));
    // Stamp the change when it was seen, not when the slowest member answered.
    const t = Date.now();
    members.forEach((member, i) => {
      const status = statuses[i];
      if (!status || stopped.signal.aborted) return;
      latest.set(member.name, status);
      if (reported.get(member.name) !== status.role) {
        reported.set(member.name, status.role);
        timeline.event('db.role', ROLE_EVENT_SOURCE, { member: member.name, role: status.role }, t);
      }
    });
    return latest;
  }

  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await pollNow();
      await sleep(intervalMs, stopped.signal);
    }
  })();

  return {
    current: () => latest,
    pollNow,
    stop: async () => {
      stopped.abort();
      await loop;
    },
  };
}

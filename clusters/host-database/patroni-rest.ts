// What one Patroni member says about itself on its REST API (`GET /patroni`).
export type MemberRole = 'primary' | 'replica' | 'down';

export interface MemberStatus {
  role: MemberRole;
  /** True for the replica the primary currently waits for on commit. */
  syncStandby: boolean;
  timeline: number | null;
}

const DOWN: MemberStatus = { role: 'down', syncStandby: false, timeline: null };

/** Never throws: an unreachable API or a PostgreSQL that is not running both mean `down`. */
export async function memberStatus(restPort: number, timeoutMs = 400): Promise<MemberStatus> {
  try {
    const response = await fetch(`http://127.0.0.1:${restPort}/patroni`, { signal: AbortSignal.timeout(timeoutMs) });
    // Patroni answers 503 with the same JSON body when PostgreSQL is not running.
    const body = (await response.json()) as { state?: unknown; role?: unknown; sync_standby?: unknown; timeline?: unknown };
    if (body.state !== 'running') return DOWN;
    // Patroni 3.0 still says "master"; later versions say "primary".
    const role: MemberRole = body.role === 'master' || body.role === 'primary' ? 'primary' : body.role === 'replica' ? 'replica' : 'down';
    return { role, syncStandby: body.sync_standby === true, timeline: typeof body.timeline === 'number' ? body.timeline : null };
  } catch {
    return DOWN;
  }
}

// /proc/self/mountinfo, read: which mounts exist under a folder (to unmount what pods left) and each
// mount's propagation (the kubelet needs / shared; the teardown puts every mount back as it was).
import { readFileSync } from 'node:fs';

export interface MountEntry {
  /** The kernel's mount id: stable while mounted, unlike the path, which stacked mounts share. */
  id: number;
  mountPoint: string;
  /** 'shared', 'slave', 'shared+slave' or 'private'. */
  propagation: string;
}

/** Mount points decode \040 (space) and friends, as the kernel escapes them. */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 7 || separator < 6) continue;
    const optional = fields.slice(6, separator);
    const shared = optional.some((f) => f.startsWith('shared:'));
    const slave = optional.some((f) => f.startsWith('master:'));
    entries.push({ id: Number(fields[0]), mountPoint: unescape(fields[4] ?? ''), propagation: shared && slave ? 'shared+slave' : shared ? 'shared' : slave ? 'slave' : 'private' });
  }
  return entries;
}

export function readMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** The mount a path lives on: the longest mount point that is a prefix; the topmost of a stack. */
export function mountOf(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const entry of entries) {
    const m = entry.mountPoint;
    const contains = m === '/' || path === m || path.startsWith(`${m}/`);
    // Later lines of mountinfo are mounted later: on a tie the later one covers the earlier.
    if (contains && (!best || m.length >= best.mountPoint.length)) best = entry;
  }
  return best;
}

/** Whether this mount is the one visible at its mount point (not covered by a later mount there). */
export function isTopmost(entries: readonly MountEntry[], entry: MountEntry): boolean {
  return entries.filter((e) => e.mountPoint === entry.mountPoint).at(-1)?.id === entry.id;
}

/** Mount points at or under any of `prefixes`, deepest first (the order they can be unmounted in). */
export function mountsUnder(entries: readonly MountEntry[], prefixes: readonly string[]): string[] {
  const under = entries.map((e) => e.mountPoint)
    .filter((m) => prefixes.some((p) => m === p || m.startsWith(p.endsWith('/') ? p : `${p}/`)));
  return [...new Set(under)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

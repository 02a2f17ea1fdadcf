// Removing what the node left in iptables: every chain named KUBE-* (kubelet, kube-proxy) or CNI-* (the
// bridge plugin's masquerade, portmap), and every rule in a built-in chain that jumps to one. Read with
// iptables-save, removed with one iptables-restore --noflush per table, so rules of anyone else stay.
import { execa } from 'execa';

const OURS = /^(KUBE|CNI)-/;

/** The iptables-restore input that removes our chains from one table's iptables-save text (pure). */
export function removalScript(table: string, saved: string): string | undefined {
  const chains: string[] = [];
  const deletes: string[] = [];
  for (const line of saved.split('\n')) {
    const chain = /^:(\S+) /.exec(line)?.[1];
    if (chain && OURS.test(chain)) chains.push(chain);
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (rule?.[1] && !OURS.test(rule[1]) && /(^| )-[jg] (KUBE|CNI)-/.test(rule[2] ?? '')) deletes.push(`-D ${rule[1]} ${rule[2]}`);
  }
  if (chains.length === 0 && deletes.length === 0) return undefined;
  // Rules out of built-in chains first, then empty our chains (they jump to each other), then delete them.
  return [`*${table}`, ...deletes, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/** Returns what it removed, e.g. ["iptables nat: 12 chains"]. */
export async function removeNodeChains(): Promise<string[]> {
  const done: string[] = [];
  for (const family of ['iptables', 'ip6tables'] as const) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const saved = await execa(`${family}-save`, ['-t', table], { reject: false });
      if (saved.exitCode !== 0) continue;
      const script = removalScript(table, saved.stdout);
      if (!script) continue;
      const restored = await execa(`${family}-restore`, ['--noflush'], { input: script, reject: false, all: true });
      if (restored.exitCode !== 0) throw new Error(`${family}-restore of table ${table} failed: ${(restored.all ?? '').trim()}`);
      done.push(`${family} ${table}: ${script.split('\n').filter((l) => l.startsWith('-X')).length} chains`);
    }
  }
  return done;
}

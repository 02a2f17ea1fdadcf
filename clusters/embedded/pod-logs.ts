// The service's logs out of the node before it goes: the kubelet writes each container's output as CRI
// log files (`<podLogs>/<namespace>_<pod>_<uid>/<container>/<restart>.log`, lines
// `<RFC3339 time> <stdout|stderr> <F|P> <text>`, P marking a line split by the runtime). They become
// `<dir>/<pod>.log` with the service's own lines, as `kubectl logs` shows them, for the structured-log check.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The service's own output from CRI log lines: prefixes dropped, split lines joined (pure). */
export function criLogText(content: string): string {
  const out: string[] = [];
  let partial = '';
  for (const line of content.split('\n')) {
    const match = /^\S+ (?:stdout|stderr) ([FP]) ?(.*)$/.exec(line);
    if (!match) continue;
    partial += match[2] ?? '';
    if (match[1] === 'F') {
      out.push(partial);
      partial = '';
    }
  }
  if (partial) out.push(partial);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Copies the logs of every pod of `namespace` still on the node into `<dir>/<pod>.log`; returns how many. */
export function collectPodLogs(podLogsRoot: string, namespace: string, dir: string): number {
  if (!existsSync(podLogsRoot)) return 0;
  mkdirSync(dir, { recursive: true });
  let pods = 0;
  for (const folder of readdirSync(podLogsRoot)) {
    const [ns, pod] = folder.split('_');
    if (ns !== namespace || !pod) continue;
    const texts: string[] = [];
    for (const container of readdirSync(join(podLogsRoot, folder))) {
      const files = readdirSync(join(podLogsRoot, folder, container)).filter((f) => /^\d+\.log$/.test(f)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
      for (const file of files) texts.push(criLogText(readFileSync(join(podLogsRoot, folder, container, file), 'utf8')));
    }
    writeFileSync(join(dir, `${pod}.log`), texts.join(''));
    pods++;
  }
  return pods;
}

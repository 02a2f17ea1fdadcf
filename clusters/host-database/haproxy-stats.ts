// Which servers HAProxy currently routes to, from its CSV status page.

/** Names of the servers of `proxy` that HAProxy considers UP (checks passing), or null if the page is unreachable. */
export async function serversUp(statsPort: number, proxy = 'primary'): Promise<string[] | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${statsPort}/;csv`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return null;
    return parseServersUp(await response.text(), proxy);
  } catch {
    return null;
  }
}

export function parseServersUp(csv: string, proxy: string): string[] {
  const [header, ...rows] = csv.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const [pxname, svname, status] = [at('pxname'), at('svname'), at('status')];
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[pxname] === proxy && cells[svname] !== 'FRONTEND' && cells[svname] !== 'BACKEND')
    .filter((cells) => (cells[status] ?? '').startsWith('UP'))
    .map((cells) => cells[svname] ?? '');
}

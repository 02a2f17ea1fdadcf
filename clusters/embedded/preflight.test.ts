import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { layoutFor } from './layout.ts';
import { busyPorts, missingPackages } from './preflight.ts';

describe('preflight', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('names the packages whose programs are not on PATH', () => {
    const missing = missingPackages('/nonexistent');
    expect(missing).toEqual(expect.arrayContaining(['runc', 'iptables', 'conntrack', 'openssl', 'iproute2', 'gcc']));
  });

  it('finds a port of the layout that something else holds', async () => {
    server = createServer();
    const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
    const layout = layoutFor('/x', '/b', '192.0.2.2');
    const busy = await busyPorts({ ...layout, ports: { ...layout.ports, apiserver: port } });
    expect(busy).toContain(port);
  });
});

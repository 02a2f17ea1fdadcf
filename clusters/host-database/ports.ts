// Free loopback ports for the host database's daemons (etcd, Patroni, PostgreSQL, HAProxy). get-port asks the
// kernel for one (bind to port 0 on 127.0.0.1) and remembers for a while what it handed out in this process,
// so two calls never return the same port even before either is bound. Another process can still take a port
// between the check and the daemon's bind: that daemon then fails to start, and says so in its log.
import { createServer } from 'node:net';
import getPort from 'get-port';

export function freePort(): Promise<number> {
  return getPort({ host: '127.0.0.1' });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}

/**
 * True when nothing listens on 127.0.0.1:port (we can bind it ourselves). Not get-port: it refuses, for up
 * to 30 s, a port it handed out itself, and this asks about exactly such ports after a teardown.
 */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

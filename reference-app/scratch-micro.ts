import { pino } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EventEmitter } from 'node:events';
import { createMetrics } from './src/metrics.ts';

function bench(name: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < n / 10; i++) fn(i);
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const t = process.cpuUsage(t0);
  console.log(name.padEnd(50), (((t.user + t.system) / n)).toFixed(3), 'us/op');
}
const m = createMetrics('1');
const routes = ['/api/items/:id', '/health'];
bench('histogram.observe(labels)', 200000, (i) => m.httpDuration.observe({ method: 'GET', route: routes[i & 1]!, status_code: '200' }, 0.003));
bench('counter.inc(labels)', 200000, (i) => m.httpRequests.inc({ method: 'GET', route: routes[i & 1]!, status_code: '200' }));
bench('gauge inc+dec', 200000, () => { m.inFlight.inc(); m.inFlight.dec(); });
const ee = new EventEmitter(); const f = () => undefined;
bench('once(close)+emit', 200000, () => { ee.once('close', f); ee.emit('close'); });
const log = pino({ level: 'info', base: { service: 'x', version: '1', instance: 'y' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } }, pino.destination('/dev/null'));
bench('pino child({reqId})', 200000, (i) => { log.child({ reqId: `req-${i}` }); });
const logSync = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
bench('pino info line sync /dev/null', 100000, (i) => logSync.info({ orderId: i }, 'order created'));
const logAsync = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
bench('pino info line async /dev/null', 100000, (i) => logAsync.info({ orderId: i }, 'order created'));
bench('setTimeout+clearTimeout', 200000, () => { clearTimeout(setTimeout(f, 5000)); });

// Scratch A/B: CPU microseconds per request of several server variants at one open-loop rate, interleaved.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { freePort } from './test/support/postgres.ts';

const DB = readFileSync('/tmp/ra/pg.out', 'utf8').trim();
const [rateArg, secondsArg, roundsArg, pathKind, ...specs] = process.argv.slice(2);
const rate = Number(rateArg); const seconds = Number(secondsArg); const rounds = Number(roundsArg);
execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
for (const pid of execFileSync('pgrep', ['-f', 'slo-pg-'], { encoding: 'utf8' }).trim().split('\n')) execFileSync('taskset', ['-a', '-p', '-c', '1', pid], { stdio: 'ignore' });

interface V { name: string; child: ChildProcess; url: string; pid: number; results: number[] }
const cpu = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
async function start(spec: string): Promise<V> {
  const [name, ...args] = spec.split(' ');
  const port = await freePort();
  const env: Record<string, string> = { ...process.env as Record<string, string>, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: DB, DRAIN_DELAY_MS: '0', LOG_LEVEL: 'info' };
  const nodeArgs: string[] = [];
  for (const a of args) { if (/^[A-Z_]+=/.test(a)) { const i = a.indexOf('='); env[a.slice(0, i)] = a.slice(i + 1); } else nodeArgs.push(a); }
  const child = spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs], { env, stdio: ['ignore', 'ignore', 'inherit'], cwd: '/work/main' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) { try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* */ } await new Promise((r) => setTimeout(r, 100)); }
  return { name: name as string, child, url, pid: child.pid as number, results: [] };
}
function path(): string { return pathKind === 'health' ? '/health' : `/api/items/${1 + Math.floor(Math.random() * 1000)}`; }
async function drive(v: V, s: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * s); let sent = 0; let done = 0; const start = performance.now(); const c0 = cpu(v.pid);
  await new Promise<void>((resolve) => {
    const fin = () => { if (++done === total) resolve(); };
    const tick = () => { const due = Math.min(total, Math.floor((performance.now() - start) * rate / 1000) + 1); while (sent < due) { sent++; http.get(`${v.url}${path()}`, { agent }, (r) => { r.resume(); r.once('end', fin); }).once('error', fin); } if (sent < total) setTimeout(tick, 1); };
    tick();
  });
  agent.destroy();
  return (cpu(v.pid) - c0) / total * 1e6;
}
const vs: V[] = [];
for (const spec of specs) vs.push(await start(spec));
for (const v of vs) await drive(v, 2);
for (let r = 0; r < rounds; r++) for (const v of (r % 2 ? [...vs].reverse() : vs)) v.results.push(await drive(v, seconds));
for (const v of vs) { const s = [...v.results].sort((a, b) => a - b); console.log(v.name.padEnd(14), 'median', s[Math.floor(s.length / 2)]!.toFixed(1), 'us/req  rounds', v.results.map((x) => x.toFixed(1)).join(' ')); }
for (const v of vs) v.child.kill('SIGKILL');

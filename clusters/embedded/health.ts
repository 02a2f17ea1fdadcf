// One HTTP(S) probe for every component's health endpoint: resolves true on a 2xx, undefined otherwise
// (so it plugs into waitFor), and never throws.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeOptions {
  /** CA file to verify the server with; without it an https endpoint's self-signed certificate is accepted. */
  ca?: string;
  timeoutMs?: number;
}

export function probe(url: string, options: ProbeOptions = {}): Promise<true | undefined> {
  return new Promise((resolve) => {
    const secure = url.startsWith('https:');
    const tls = secure ? (options.ca ? { ca: readFileSync(options.ca) } : { rejectUnauthorized: false }) : {};
    const req = (secure ? httpsRequest : httpRequest)(url, { ...tls, timeout: options.timeoutMs ?? 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? true : undefined);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

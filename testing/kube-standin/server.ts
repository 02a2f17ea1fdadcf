// A STAND-IN for the Kubernetes API server, for tests only. It is not Kubernetes: no controllers, no
// admission, no authentication. It stores objects in memory and speaks just enough of the REST protocol
// for clusters/kube to be exercised through the real @kubernetes/client-node: GET/LIST/WATCH, PATCH
// (JSON merge and a name-keyed approximation of strategic merge), DELETE, the deployment `scale` and CNPG
// `status` subresources, label/field selectors, resourceVersion conflicts, and injected 403/404 answers.
// Tests play the controllers themselves by calling `put()` (which notifies watchers like the real thing).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  [field: string]: unknown;
};

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: unknown;
}

interface Watcher {
  collection: string;
  namespace: string;
  filter: (obj: KubeObject) => boolean;
  res: ServerResponse;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  remaining: number;
}

/** Collections are named like the URL: `api/v1/pods`, `apis/apps/v1/deployments`, `api/v1/namespaces`. */
export class KubeStandin {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private version = 1;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Create or replace an object and tell watchers (ADDED or MODIFIED). */
  put(collection: string, obj: KubeObject): KubeObject {
    const items = this.items(collection);
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    const type = items.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.version);
    items.set(key, stored);
    this.notify(collection, type, stored);
    return stored;
  }

  /** Delete an object and tell watchers (DELETED), as a controller's deletion does. */
  remove(collection: string, namespace: string | undefined, name: string): void {
    const items = this.items(collection);
    const current = items.get(keyOf(namespace, name));
    if (!current) return;
    items.delete(keyOf(namespace, name));
    this.notify(collection, 'DELETED', current);
  }

  get(collection: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.items(collection).get(keyOf(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  /** Answer the next `times` matching requests with this HTTP status (a Kubernetes Status body). */
  fail(method: string, path: RegExp, status: number, times = Number.POSITIVE_INFINITY): void {
    this.faults.push({ method, path, status, remaining: times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** End every open watch stream, as an API server does on restart or timeout. */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  watcherCount(collection?: string): number {
    return [...this.watchers].filter((w) => !collection || w.collection === collection).length;
  }

  requestsMatching(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  private items(collection: string): Map<string, KubeObject> {
    let items = this.store.get(collection);
    if (!items) this.store.set(collection, (items = new Map()));
    return items;
  }

  private notify(collection: string, type: string, obj: KubeObject): void {
    for (const w of this.watchers) {
      if (w.collection === collection && w.namespace === obj.metadata.namespace && w.filter(obj)) {
        w.res.write(JSON.stringify({ type, object: obj }) + '\n');
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const raw = await readBody(req);
    const contentType = req.headers['content-type'];
    const body = raw ? JSON.parse(raw) as unknown : undefined;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams, contentType, body });

    const fault = this.faults.find((f) => f.remaining > 0 && f.method === method && f.path.test(url.pathname));
    if (fault) {
      fault.remaining--;
      return status(res, fault.status, `injected ${fault.status} for ${method} ${url.pathname}`);
    }

    const route = parsePath(url.pathname);
    if (!route) return status(res, 404, `no route ${url.pathname}`);
    const { collection, namespace, name, subresource } = route;

    if (!name) {
      if (method !== 'GET') return status(res, 405, 'collections are read-only here');
      const filter = selectorFilter(url.searchParams);
      const watching = url.searchParams.get('watch');
      if (watching === 'true' || watching === '1') return this.openWatch(res, collection, namespace, filter);
      const items = [...this.items(collection).values()].filter((o) => o.metadata.namespace === namespace && filter(o));
      return json(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.version) }, items });
    }

    const current = this.get(collection, namespace, name);
    if (!current) return status(res, 404, `${collection} "${name}" not found`);

    if (method === 'GET') {
      if (subresource === 'scale') return json(res, 200, scaleOf(current));
      return json(res, 200, current);
    }
    if (method === 'DELETE') {
      this.items(collection).delete(keyOf(namespace, name));
      this.notify(collection, 'DELETED', current);
      return json(res, 200, current);
    }
    if (method === 'PATCH') {
      if (!isObject(body)) return status(res, 400, 'patch body must be a JSON object');
      const wantedVersion = (body.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (wantedVersion && wantedVersion !== current.metadata.resourceVersion) {
        return status(res, 409, `the object has been modified; resourceVersion ${wantedVersion} is stale`);
      }
      let patch: Record<string, unknown> = body;
      if (subresource === 'scale') patch = { spec: { replicas: (body.spec as { replicas?: number } | undefined)?.replicas } };
      if (subresource === 'status') patch = { status: body.status }; // the status subresource ignores everything else
      if (!subresource && 'status' in patch) delete patch.status; // and the main resource ignores status
      const strategic = contentType === 'application/strategic-merge-patch+json';
      const merged = (strategic ? strategicMerge : mergePatch)(current, patch) as KubeObject;
      if (!subresource || subresource === 'scale') {
        const generation = (current.metadata.generation as number | undefined) ?? 1;
        merged.metadata.generation = generation + 1;
      }
      const stored = this.put(collection, merged);
      return json(res, 200, subresource === 'scale' ? scaleOf(stored) : stored);
    }
    return status(res, 405, `${method} not supported by the stand-in`);
  }

  private openWatch(res: ServerResponse, collection: string, namespace: string, filter: (o: KubeObject) => boolean): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const watcher: Watcher = { collection, namespace, filter, res };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    // Like a watch without resourceVersion: synthetic ADDED events for everything that exists.
    for (const obj of this.items(collection).values()) {
      if (obj.metadata.namespace === namespace && filter(obj)) res.write(JSON.stringify({ type: 'ADDED', object: obj }) + '\n');
    }
  }
}

export async function startKubeStandin(): Promise<KubeStandin> {
  return new KubeStandin().start();
}

function parsePath(path: string): { collection: string; namespace: string; name?: string; subresource?: string } | undefined {
  const namespaceOnly = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  if (namespaceOnly) return { collection: 'api/v1/namespaces', namespace: '', name: namespaceOnly[1] as string };
  const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  return { collection: `${m[1]}/${m[3]}`, namespace: m[2] as string, name: m[4], subresource: m[5] };
}

function selectorFilter(query: URLSearchParams): (obj: KubeObject) => boolean {
  const labels = pairs(query.get('labelSelector'));
  const fields = pairs(query.get('fieldSelector'));
  return (obj) => labels.every(([k, v]) => obj.metadata.labels?.[k] === v)
    && fields.every(([k, v]) => (k === 'metadata.name' ? obj.metadata.name === v : k === 'metadata.namespace' ? obj.metadata.namespace === v : false));
}

function pairs(selector: string | null): [string, string][] {
  if (!selector) return [];
  return selector.split(',').map((term) => term.split('=') as [string, string]);
}

function scaleOf(obj: KubeObject): KubeObject {
  const spec = obj.spec as { replicas?: number } | undefined;
  const stat = obj.status as { replicas?: number } | undefined;
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, resourceVersion: obj.metadata.resourceVersion },
    spec: { replicas: spec?.replicas ?? 0 }, status: { replicas: stat?.replicas ?? 0 },
  };
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Strategic merge, approximated: lists of objects with a `name` merge item by item, other lists replace. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && patch.every((p) => isObject(p) && typeof p.name === 'string')) {
    const out = structuredClone(target) as unknown[];
    for (const item of patch as Record<string, unknown>[]) {
      const at = out.findIndex((t) => isObject(t) && t.name === item.name);
      if (at >= 0) out[at] = strategicMerge(out[at], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = strategicMerge(out[key], value);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 500: 'InternalError' };

function status(res: ServerResponse, code: number, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code });
}

// The cluster's certificates and keys, made with openssl (Node's crypto can parse X.509 but not issue it).
// The same set kubeadm makes, with its names: one CA for the API server and every client, a front-proxy CA
// for the aggregation layer (metrics-server), a service-account key pair. ECDSA P-256 throughout: a
// fraction of RSA's cost on a busy machine, and every component accepts it.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { errors } from '../../contract/errors.ts';
import type { Layout } from './layout.ts';
import type { Step } from './steps.ts';

export interface CertRequest {
  /** File stem: <name>.crt and <name>.key. */
  name: string;
  /** Which CA signs it (file stem), or none for a CA itself. */
  ca?: string;
  cn: string;
  orgs?: readonly string[];
  usage: 'ca' | 'client' | 'server';
  dns?: readonly string[];
  ips?: readonly string[];
}

/** What this cluster needs (pure): subjects and names follow kubeadm and the Node authorizer's rules. */
export function certRequests(layout: Layout): CertRequest[] {
  return [
    { name: 'ca', cn: 'kubernetes', usage: 'ca' },
    { name: 'front-proxy-ca', cn: 'front-proxy-ca', usage: 'ca' },
    {
      name: 'apiserver', ca: 'ca', cn: 'kube-apiserver', usage: 'server',
      dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${layout.clusterDomain}`, 'localhost', layout.nodeName],
      ips: ['127.0.0.1', layout.nodeIp, layout.firstServiceIp],
    },
    // The API server's identity towards kubelets (logs, exec, metrics through the API).
    { name: 'apiserver-kubelet-client', ca: 'ca', cn: 'kube-apiserver-kubelet-client', orgs: ['system:masters'], usage: 'client' },
    // Aggregation layer: the API server proxies to metrics-server as this client; metrics-server trusts
    // front-proxy-ca and the name "front-proxy-client" (--requestheader-allowed-names).
    { name: 'front-proxy-client', ca: 'front-proxy-ca', cn: 'front-proxy-client', usage: 'client' },
    { name: 'admin', ca: 'ca', cn: 'kubernetes-admin', orgs: ['system:masters'], usage: 'client' },
    { name: 'controller-manager', ca: 'ca', cn: 'system:kube-controller-manager', usage: 'client' },
    { name: 'scheduler', ca: 'ca', cn: 'system:kube-scheduler', usage: 'client' },
    // The Node authorizer admits a kubelet only as system:node:<its node name> in group system:nodes.
    { name: 'kubelet', ca: 'ca', cn: `system:node:${layout.nodeName}`, orgs: ['system:nodes'], usage: 'client' },
    { name: 'kube-proxy', ca: 'ca', cn: 'system:kube-proxy', usage: 'client' },
  ];
}

/** openssl req arguments for one certificate (pure). */
export function opensslArgs(dir: string, request: CertRequest): string[] {
  const subject = `${(request.orgs ?? []).map((o) => `/O=${o}`).join('')}/CN=${request.cn}`;
  const args = ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', join(dir, `${request.name}.key`), '-out', join(dir, `${request.name}.crt`), '-subj', subject];
  if (request.usage === 'ca') {
    return [...args, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'];
  }
  if (!request.ca) throw new Error(`certificate ${request.name} needs a CA`);
  const sans = [...(request.dns ?? []).map((d) => `DNS:${d}`), ...(request.ips ?? []).map((ip) => `IP:${ip}`)];
  return [...args, '-days', '365', '-CA', join(dir, `${request.ca}.crt`), '-CAkey', join(dir, `${request.ca}.key`),
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', `extendedKeyUsage=${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(sans.length > 0 ? ['-addext', `subjectAltName=${sans.join(',')}`] : [])];
}

async function openssl(args: string[]): Promise<void> {
  const result = await execa('openssl', args, { reject: false, all: true });
  if (result.exitCode !== 0) throw errors.SLO_ERR_ENV_PROCESS_FAILED(`openssl ${args[0]} failed: ${(result.all ?? '').trim().split('\n').slice(-2).join(' | ')}`);
}

export function pkiStep(layout: Layout): Step {
  return {
    name: 'certificates',
    async up() {
      // A second `up` on a live cluster keeps the certificates its running daemons already trust.
      if (existsSync(join(layout.certs, 'sa.pub'))) return;
      mkdirSync(layout.certs, { recursive: true, mode: 0o700 });
      for (const request of certRequests(layout)) await openssl(opensslArgs(layout.certs, request));
      // Service-account tokens: the API server signs with sa.key, everyone verifies with sa.pub.
      await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(layout.certs, 'sa.key')]);
      await openssl(['pkey', '-in', join(layout.certs, 'sa.key'), '-pubout', '-out', join(layout.certs, 'sa.pub')]);
      writeFileSync(join(layout.certs, 'README'), 'Made by clusters/embedded/pki.ts for this cluster only; removed by its teardown.\n');
    },
    async down() {
      rmSync(layout.certs, { recursive: true, force: true });
    },
  };
}

// What the embedded cluster runs, and how each program is built from its published source: the recipe,
// kept pure (no files, no processes) so the flags can be read and tested apart from the build itself.
//
// Flags follow each project's own release build:
// - Kubernetes (hack/lib/golang.sh, hack/lib/version.sh of v1.34.4): -trimpath, -ldflags "-s -w" plus the
//   version variables in both k8s.io/component-base/version and k8s.io/client-go/pkg/version, tags
//   selinux,notest,grpcnotrace; every binary static (CGO_ENABLED=0) except the kubelet (KUBE_STATIC_BINARIES
//   leaves it out: it uses cgo where available).
// - etcd: static; its version is a constant of go.etcd.io/etcd/api/v3/version, the commit a -X variable.
// - metrics-server (its Makefile): static, -trimpath, -w, version variables of k8s.io/client-go/pkg/version.
// - CoreDNS (its Makefile): static, -s -w, -X coremain.GitCommit.
// - crictl (cri-tools' Makefile): static, -trimpath, -X pkg/version.Version=<tag without "v">.
// - pause (build/pause/Makefile): gcc -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV).
// - CloudNativePG's manager (.goreleaser.yml): static, -s -w, -X pkg/versions.buildVersion/buildCommit/buildDate.

/** The Kubernetes release the embedded cluster runs; the tool folder is named after it. */
export const KUBERNETES_VERSION = 'v1.34.4';

/** The Go modules under clusters/embedded/build/, one per dependency graph that cannot share with another. */
export type BuildModule = 'kubernetes' | 'metrics-server' | 'coredns' | 'cri-tools' | 'cnpg';

/** What the Go module proxy says of a module version (`go list -m -json`): the facts versions come from. */
export interface ModuleInfo {
  path: string;
  version: string;
  /** When the version was published (RFC 3339). */
  time?: string;
  /** The commit, when the proxy records where the version came from (Origin.Hash); often absent. */
  commit?: string;
  /** The module's folder in the module cache (for pause.c, which ships inside k8s.io/kubernetes). */
  dir?: string;
}

export interface GoBinary {
  kind: 'go';
  name: string;
  module: BuildModule;
  /** The main package to build. */
  pkg: string;
  /** The module whose version this program reports. */
  versionModule: string;
  cgo: boolean;
  tags?: string;
  ldflags: (info: ModuleInfo) => string;
}

export interface CBinary {
  kind: 'c';
  name: 'pause';
  /** pause.c ships in the k8s.io/kubernetes module zip (checked against go.sum), so no copy lives here. */
  versionModule: 'k8s.io/kubernetes';
  /** build/pause/Makefile's TAG, read from the same module. */
  cflags: (info: ModuleInfo, pauseTag: string) => string[];
}

export type BinarySpec = GoBinary | CBinary;

/** "2026-02-10T12:53:36Z" from the proxy's publish time: builds are reproducible (upstream's SOURCE_DATE_EPOCH). */
function buildDate(info: ModuleInfo): string | undefined {
  if (!info.time) return undefined;
  const date = new Date(info.time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** -X flags for a Kubernetes-style version package, with upstream's rules of what to leave unset. */
export function kubeVersionVars(info: ModuleInfo, packages: readonly string[]): string[] {
  const vars: [string, string][] = [];
  const date = buildDate(info);
  if (date) vars.push(['buildDate', date]);
  // version.sh sets the commit and tree state only when it knows the commit; a module zip does not say
  // which commit it came from unless the proxy recorded it, and a guess would make `--version` lie. Left
  // unset, gitCommit would read "$Format:%H$" (component-base's unexpanded git-archive placeholder): an
  // empty value says "unknown" plainly.
  vars.push(...(info.commit ? [['gitCommit', info.commit], ['gitTreeState', 'clean']] as [string, string][] : [['gitCommit', ''] as [string, string]]));
  vars.push(['gitVersion', info.version]);
  // The same pattern version.sh matches: a pre-release or build suffix adds "+" to the minor.
  const semver = /^v(\d+)\.(\d+)(\.\d+)?([-].*)?([+].*)?$/.exec(info.version);
  if (semver?.[1] && semver[2]) vars.push(['gitMajor', semver[1]], ['gitMinor', semver[4] ? `${semver[2]}+` : semver[2]]);
  return vars.flatMap(([key, value]) => packages.map((pkg) => `-X '${pkg}.${key}=${value}'`));
}

const KUBE_VERSION_PACKAGES = ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'] as const;
const KUBE_TAGS = 'selinux,notest,grpcnotrace';
const kubeLdflags = (info: ModuleInfo) => `all=${kubeVersionVars(info, KUBE_VERSION_PACKAGES).join(' ')} -s -w`;

function kube(name: string, cgo = false): GoBinary {
  return { kind: 'go', name, module: 'kubernetes', pkg: `k8s.io/kubernetes/cmd/${name}`, versionModule: 'k8s.io/kubernetes', cgo, tags: KUBE_TAGS, ldflags: kubeLdflags };
}

/**
 * In build order: kube-apiserver first, since it compiles most of what the others share (the rest of a
 * cold build is mostly linking), and the separate modules last.
 */
export const BINARIES: readonly BinarySpec[] = [
  kube('kube-apiserver'),
  kube('kube-controller-manager'),
  kube('kube-scheduler'),
  kube('kube-proxy'),
  kube('kubectl'),
  kube('kubelet', true),
  {
    kind: 'go', name: 'etcd', module: 'kubernetes', pkg: 'go.etcd.io/etcd/server/v3', versionModule: 'go.etcd.io/etcd/server/v3', cgo: false,
    // Without a known commit etcd keeps its own "Not provided (use ./build instead of go build)", which is true.
    ldflags: (info) => `-s -w${info.commit ? ` -X 'go.etcd.io/etcd/api/v3/version.GitSHA=${info.commit.slice(0, 7)}'` : ''}`,
  },
  {
    kind: 'go', name: 'metrics-server', module: 'metrics-server', pkg: 'sigs.k8s.io/metrics-server/cmd/metrics-server', versionModule: 'sigs.k8s.io/metrics-server', cgo: false,
    ldflags: (info) => `-w ${kubeVersionVars(info, ['k8s.io/client-go/pkg/version']).join(' ')}`,
  },
  {
    kind: 'go', name: 'coredns', module: 'coredns', pkg: '.', versionModule: 'github.com/coredns/coredns', cgo: false,
    ldflags: (info) => `-s -w${info.commit ? ` -X 'github.com/coredns/coredns/coremain.GitCommit=${info.commit.slice(0, 7)}'` : ''}`,
  },
  {
    kind: 'go', name: 'crictl', module: 'cri-tools', pkg: 'sigs.k8s.io/cri-tools/cmd/crictl', versionModule: 'sigs.k8s.io/cri-tools', cgo: false,
    ldflags: (info) => `-X 'sigs.k8s.io/cri-tools/pkg/version.Version=${info.version.replace(/^v/, '')}'`,
  },
  {
    // The CloudNativePG operator (the embedded cluster's database): one static binary that is both the operator and
    // the instance manager its bootstrap init container copies into every PostgreSQL pod (cnpg-image.ts).
    kind: 'go', name: 'cnpg-manager', module: 'cnpg', pkg: 'github.com/cloudnative-pg/cloudnative-pg/cmd/manager', versionModule: 'github.com/cloudnative-pg/cloudnative-pg', cgo: false,
    ldflags: (info) => cnpgLdflags(info),
  },
  {
    kind: 'c', name: 'pause', versionModule: 'k8s.io/kubernetes',
    // REV is `git describe --contains` of the source commit upstream, i.e. the Kubernetes tag it came from.
    cflags: (info, pauseTag) => ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${pauseTag}-${info.version}`],
  },
];

/**
 * CloudNativePG's release flags: the version without "v", the short commit and the day (the Makefile's
 * `git log --date short`), both from the proxy's facts; an unknown commit stays empty rather than guessed.
 */
export function cnpgLdflags(info: ModuleInfo): string {
  const pkg = 'github.com/cloudnative-pg/cloudnative-pg/pkg/versions';
  const vars: [string, string][] = [['buildVersion', info.version.replace(/^v/, '')], ['buildCommit', info.commit?.slice(0, 7) ?? '']];
  const day = buildDate(info)?.slice(0, 10);
  if (day) vars.push(['buildDate', day]);
  return `-s -w ${vars.map(([key, value]) => `-X '${pkg}.${key}=${value}'`).join(' ')}`;
}

/** build/pause/Makefile's `TAG ?= 3.10.1`. */
export function pauseTag(makefile: string): string | undefined {
  return /^TAG\s*\?=\s*(\S+)\s*$/m.exec(makefile)?.[1];
}

/** `go list -m -json` output -> ModuleInfo. */
export function parseModuleInfo(json: string): ModuleInfo {
  const raw = JSON.parse(json) as { Path?: string; Version?: string; Time?: string; Dir?: string; Origin?: { Hash?: string } };
  if (!raw.Path || !raw.Version) throw new Error(`not a module description: ${json.slice(0, 200)}`);
  const info: ModuleInfo = { path: raw.Path, version: raw.Version };
  if (raw.Time) info.time = raw.Time;
  if (raw.Origin?.Hash) info.commit = raw.Origin.Hash;
  if (raw.Dir) info.dir = raw.Dir;
  return info;
}

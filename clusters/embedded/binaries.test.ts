import { describe, expect, it } from 'vitest';
import { BINARIES, kubeVersionVars, parseModuleInfo, pauseTag } from './binaries.ts';

const PKGS = ['k8s.io/component-base/version'];

describe('kubeVersionVars (hack/lib/version.sh rules)', () => {
  it.each([
    {
      name: 'release from a module zip: commit unknown (empty, not the placeholder), no tree state',
      info: { path: 'k8s.io/kubernetes', version: 'v1.34.4', time: '2026-02-10T12:53:36Z' },
      want: ['buildDate=2026-02-10T12:53:36Z', 'gitCommit=', 'gitVersion=v1.34.4', 'gitMajor=1', 'gitMinor=34'],
    },
    {
      name: 'commit known (proxy Origin): commit and a clean tree',
      info: { path: 'x', version: 'v1.34.4', time: '2026-02-10T12:53:36.123Z', commit: 'abc' },
      want: ['buildDate=2026-02-10T12:53:36Z', 'gitCommit=abc', 'gitTreeState=clean', 'gitVersion=v1.34.4', 'gitMajor=1', 'gitMinor=34'],
    },
    {
      name: 'pre-release: minor gets "+"',
      info: { path: 'x', version: 'v1.35.0-rc.1' },
      want: ['gitCommit=', 'gitVersion=v1.35.0-rc.1', 'gitMajor=1', 'gitMinor=35+'],
    },
    {
      name: 'pseudo-version of an untagged commit: still semver, minor "+"',
      info: { path: 'x', version: 'v0.0.0-20250710124328-f3f2b991d03b' },
      want: ['gitCommit=', 'gitVersion=v0.0.0-20250710124328-f3f2b991d03b', 'gitMajor=0', 'gitMinor=0+'],
    },
  ])('$name', ({ info, want }) => {
    expect(kubeVersionVars(info, PKGS)).toEqual(want.map((kv) => `-X 'k8s.io/component-base/version.${kv}'`));
  });

  it('sets each variable in every package given, as version.sh does for client-go and component-base', () => {
    const flags = kubeVersionVars({ path: 'x', version: 'v1.34.4' }, ['a/version', 'b/version']);
    expect(flags.filter((f) => f.includes('gitVersion=v1.34.4'))).toEqual(["-X 'a/version.gitVersion=v1.34.4'", "-X 'b/version.gitVersion=v1.34.4'"]);
  });
});

describe('the recipe', () => {
  it('builds every Kubernetes program static except the kubelet, like KUBE_STATIC_BINARIES', () => {
    const cgo = BINARIES.filter((b) => b.kind === 'go' && b.cgo).map((b) => b.name);
    expect(cgo).toEqual(['kubelet']);
  });

  it('has unique names and puts the control plane before the separate modules', () => {
    const names = BINARIES.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.slice(0, 7)).toEqual(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl', 'kubelet', 'etcd']);
  });

  it('compiles pause like build/pause/Makefile', () => {
    const pause = BINARIES.find((b) => b.kind === 'c');
    expect(pause?.kind === 'c' && pause.cflags({ path: 'k8s.io/kubernetes', version: 'v1.34.4' }, '3.10.1'))
      .toEqual(['-Os', '-Wall', '-Werror', '-static', '-DVERSION=v3.10.1-v1.34.4']);
  });
});

describe('pauseTag', () => {
  it.each([
    ['TAG ?= 3.10.1\nREV = x', '3.10.1'],
    ['# no tag here', undefined],
  ])('%j -> %s', (makefile, want) => expect(pauseTag(makefile)).toBe(want));
});

describe('parseModuleInfo', () => {
  it('reads version, publish time, commit and folder', () => {
    expect(parseModuleInfo(JSON.stringify({
      Path: 'github.com/coredns/coredns', Version: 'v1.12.1', Time: '2025-03-31T19:52:36Z', Dir: '/m/coredns@v1.12.1',
      Origin: { VCS: 'git', Hash: '707c7c10acd52cb94e959e76ae233d9b76af0854' },
    }))).toEqual({ path: 'github.com/coredns/coredns', version: 'v1.12.1', time: '2025-03-31T19:52:36Z', dir: '/m/coredns@v1.12.1', commit: '707c7c10acd52cb94e959e76ae233d9b76af0854' });
  });

  it('refuses what is not a module description', () => {
    expect(() => parseModuleInfo('{}')).toThrow(/not a module description/);
  });
});

// reference-app is a package of its own: what src/ imports is exactly what package.json declares, pinned,
// installed in reference-app/node_modules, and found there even when the service is started from the
// repository root (`node --import tsx reference-app/src/server.ts`). The image runs
// the compiled dist/ instead (build.ts, esbuild), built with the very esbuild tsx runs on.
import { readFileSync, realpathSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { filesUnder } from './support/dockerfile.ts';

const APP_DIR = realpathSync(fileURLToPath(new URL('../', import.meta.url)));
const manifest = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Not imported by src/ but needed at run time, and why. */
const RUNTIME_ONLY: Record<string, string> = {
  tsx: 'the loader that runs the TypeScript sources (node --import tsx) outside the image: tests, npm start and the build',
  '@opentelemetry/api': 'the peer dependency every OpenTelemetry package shares; one copy must exist',
};

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function importedPackages(): Set<string> {
  const names = new Set<string>();
  for (const file of filesUnder(APP_DIR, 'src')) {
    const text = readFileSync(join(APP_DIR, 'src', file), 'utf8');
    // Static and dynamic imports, and the loader hook telemetry.ts registers by package path.
    for (const match of text.matchAll(/(?:\bfrom|\bimport|\bimport\(|\bregister\()\s*'([^'.][^']*)'/g)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      names.add(packageName(specifier));
    }
  }
  return names;
}

describe('reference-app/package.json', () => {
  it('declares every package src/ imports as a dependency, and nothing src/ does not need', () => {
    const imported = importedPackages();
    const declared = Object.keys(manifest.dependencies);
    expect([...imported].filter((name) => !declared.includes(name))).toEqual([]);
    expect(declared.filter((name) => !imported.has(name) && !(name in RUNTIME_ONLY))).toEqual([]);
  });

  it('builds with the esbuild tsx brings: one copy, pinned as a devDependency', () => {
    const lock = JSON.parse(readFileSync(join(APP_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    expect(manifest.devDependencies.esbuild).toBe(lock.packages['node_modules/esbuild']?.version);
    expect(Object.keys(lock.packages).filter((path) => path.endsWith('/node_modules/esbuild'))).toEqual([]);
    const scripts = (JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBe('node --import tsx build.ts');
  });

  it('pins every version exactly', () => {
    const ranges = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version));
    expect(ranges).toEqual([]);
  });

  it('resolves every dependency from reference-app/node_modules for a file of the service, at the pinned version', () => {
    const requireFromServer = createRequire(join(APP_DIR, 'src', 'server.ts'));
    for (const [name, version] of Object.entries(manifest.dependencies)) {
      // package.json is not exported by every package; the folder of the resolved entry tells the copy.
      const entry = realpathSync(requireFromServer.resolve(name === 'tsx' ? 'tsx/esm/api' : name));
      expect(entry.startsWith(join(APP_DIR, 'node_modules', name)), `${name} -> ${entry}`).toBe(true);
      const installed = JSON.parse(readFileSync(join(APP_DIR, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, name).toBe(version);
    }
  });
});

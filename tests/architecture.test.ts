// The import rule between folders (docs/ARCHITECTURE.md) is the linter's: these tests show it bites on a
// forbidden import, and that the folders form no loop.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const eslint = new ESLint({ cwd: ROOT });

async function restrictedImports(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import/no-restricted-paths').map((m) => m.message);
}

describe('the import rule, held by the linter', () => {
  it.each([
    ['verifiers/example.ts', "import { runSuite } from '../harness/run-suite.ts';", /verifiers\/ are pure/],
    ['verifiers/example.ts', "import { createLoadEngine } from '../load/engines.ts';", /verifiers\/ are pure/],
    ['reports/example.ts', "import { verify } from '../verifiers/index.ts';", /only verifiers\/types\.ts/],
    ['clusters/example.ts', "import { writeReports } from '../reports/index.ts';", /cluster adapters import only contract/],
    ['clusters/embedded/example.ts', "import { loadSpec } from '../../harness/spec-file.ts';", /cluster adapters import only contract/],
    ['contract/example.ts', "import { runLoad } from '../load/run-load.ts';", /contract\/ imports nothing/],
    ['reference-app/src/example.ts', "import { errors } from '../../contract/errors.ts';", /reference-app\/ stands alone/],
    ['load/example.ts', "import { verify } from '../verifiers/index.ts';", /load engines import only/],
  ])('%s: %s is refused', async (file, source, message) => {
    const found = await restrictedImports(file, `${source}\nexport const x = 1;\n`);
    expect(found).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['verifiers/example.ts', "import type { LoadRecord } from '../contract/timeline.ts';"],
    ['reports/example.ts', "import type { Verdict } from '../verifiers/types.ts';"],
    ['harness/example.ts', "import { verify } from '../verifiers/index.ts';"],
    ['verifiers/example.test.ts', "import { timeline } from '../testing/timeline-builder.ts';"],
  ])('%s: %s is allowed', async (file, source) => {
    expect(await restrictedImports(file, `${source}\nexport const x = 1;\n`)).toEqual([]);
  });
});

const FOLDERS = ['contract', 'scenarios', 'load', 'clusters', 'verifiers', 'reports', 'harness', 'reference-app'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

describe('folders', () => {
  it('import each other without a loop', () => {
    const edges = new Map<string, Set<string>>(FOLDERS.map((f) => [f, new Set<string>()]));
    for (const folder of FOLDERS) {
      for (const file of sourceFiles(join(ROOT, folder))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = relative(ROOT, resolve(dirname(file), m[1]!)).split('/')[0]!;
          if (target !== folder && edges.has(target)) edges.get(folder)!.add(target);
        }
      }
    }
    // Depth-first search for a cycle; the path found is the message.
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]): string[] | null => {
      if (state.get(node) === 'open') return [...path, node];
      if (state.get(node) === 'done') return null;
      state.set(node, 'open');
      for (const next of edges.get(node) ?? []) {
        const cycle = visit(next, [...path, node]);
        if (cycle) return cycle;
      }
      state.set(node, 'done');
      return null;
    };
    const cycles = FOLDERS.map((f) => visit(f, [])).filter(Boolean);
    expect(cycles).toEqual([]);
    // And the shape drawn in docs/ARCHITECTURE.md: only harness/ wires the parts together.
    expect([...edges.get('harness')!].sort()).toEqual(['clusters', 'contract', 'load', 'reports', 'verifiers']);
    expect([...edges.get('contract')!]).toEqual([]);
    expect([...edges.get('reference-app')!]).toEqual([]);
  });
});

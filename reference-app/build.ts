// The production build: src/ compiled once by esbuild into dist/ (ES modules, .mjs), so the image runs
// `node dist/server.mjs` and no replica transpiles TypeScript at start (tsx's loader was about half of a
// start's CPU). `npm run build` (= `node --import tsx build.ts`), or `... build.ts --outdir <folder>`.
//
// Packages stay external (imported from node_modules at run time, as under tsx), and the start order
// survives bundling: server.ts reads the configuration (a bad one exits 2 before anything else loads),
// starts telemetry, and only then `await import('./main.ts')`, which stays a chunk of its own with
// splitting. OpenTelemetry is loaded by telemetry.ts's dynamic imports only when tracing is on; the build
// checks that nothing the entry loads up front (the entry and the chunks it imports statically) imports an
// OpenTelemetry package, and fails otherwise.
import { rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const APP_DIR = fileURLToPath(new URL('./', import.meta.url));
/** The entry the image runs, relative to the output folder. */
export const ENTRY_FILE = 'server.mjs';

/** Packages only a traced replica loads (src/telemetry.ts imports them when an OTLP endpoint is set). */
export function isTracingPackage(specifier: string): boolean {
  return specifier.startsWith('@opentelemetry/');
}

export interface BuildResult {
  outdir: string;
  /** Output files relative to outdir, sorted. */
  files: string[];
  /** External packages the entry loads up front (static imports of the entry and its static chunks). */
  eagerPackages: string[];
}

/** Follows the entry's static imports through the chunks and collects the external ones. */
export function eagerExternals(metafile: Metafile, entryOutput: string): string[] {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (output: string): void => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const entry of metafile.outputs[output]?.imports ?? []) {
      if (entry.kind !== 'import-statement' && entry.kind !== 'require-call') continue;
      if (entry.external) externals.add(entry.path);
      else visit(entry.path);
    }
  };
  visit(entryOutput);
  return [...externals].sort();
}

export async function buildService(options: { appDir?: string; outdir?: string } = {}): Promise<BuildResult> {
  const appDir = options.appDir ?? APP_DIR;
  const outdir = resolve(appDir, options.outdir ?? 'dist');
  rmSync(outdir, { recursive: true, force: true }); // chunk names carry hashes: no stale ones left behind
  const result = await build({
    absWorkingDir: appDir,
    entryPoints: ['src/server.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const entryOutput = outputs.find((file) => resolve(appDir, file) === join(outdir, ENTRY_FILE));
  if (!entryOutput) throw new Error(`esbuild wrote no ${ENTRY_FILE} in ${outdir}`);
  const eagerPackages = eagerExternals(result.metafile, entryOutput);
  const early = eagerPackages.filter(isTracingPackage);
  if (early.length > 0) {
    throw new Error(`${ENTRY_FILE} would load ${early.join(', ')} even with tracing off: import OpenTelemetry only in telemetry.ts, dynamically`);
  }
  return { outdir, files: outputs.map((file) => relative(outdir, resolve(appDir, file))).sort(), eagerPackages };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at >= 0 ? process.argv[at + 1] : undefined;
  const { outdir: written, files, eagerPackages } = await buildService(outdir ? { outdir: resolve(outdir) } : {});
  process.stdout.write(`built ${files.length} files into ${written} (loaded up front: ${eagerPackages.join(', ') || 'nothing external'})\n`);
}

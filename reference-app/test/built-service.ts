// The compiled service, as the image runs it (`node dist/server.mjs`): build.ts writes dist/ into a temp
// folder next to a package.json copy and a link to reference-app/node_modules, so the bundle's external
// imports (fastify, pg, pino, the OpenTelemetry packages) resolve the way they do in the image's /app.
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_DIR, buildService, ENTRY_FILE, type BuildResult } from '../build.ts';
import type { ServerEntry } from './spawn-server.ts';

export interface BuiltService {
  entry: ServerEntry;
  build: BuildResult;
  remove(): void;
}

export async function buildIntoTemp(): Promise<BuiltService> {
  const root = mkdtempSync(join(tmpdir(), 'slo-reference-dist-'));
  try {
    const build = await buildService({ outdir: join(root, 'dist') });
    copyFileSync(join(APP_DIR, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(APP_DIR, 'node_modules'), join(root, 'node_modules'), 'dir');
    return { entry: { args: [`dist/${ENTRY_FILE}`], cwd: root }, build, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

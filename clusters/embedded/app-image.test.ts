// The reference image as app-image.ts assembles it without Docker: the same CMD as the Dockerfile (the
// compiled dist/, not tsx), a cache key that follows the build's inputs, and the build stage's output.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDist, contextFiles, imageKey, REFERENCE_APP_DIR, referenceAppConfig } from './app-image.ts';

const scratch: string[] = [];
afterAll(() => {
  for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
});

function temp(): string {
  const folder = mkdtempSync(join(tmpdir(), 'slo-app-image-'));
  scratch.push(folder);
  return folder;
}

describe('the reference image built without Docker', () => {
  it('runs what the Dockerfile runs: node dist/server.mjs, no tsx', () => {
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(join(REFERENCE_APP_DIR, 'Dockerfile'), 'utf8'))?.[1];
    expect(cmd).toBeDefined();
    expect(referenceAppConfig().Cmd).toEqual(JSON.parse(cmd ?? '[]'));
    expect(referenceAppConfig().Cmd).toEqual(['node', 'dist/server.mjs']);
  });

  it('keys the cached archive by the build\'s inputs: a change in src/ or build.ts is a new image', () => {
    const files = contextFiles(REFERENCE_APP_DIR);
    expect(files.slice(0, 3)).toEqual(['package.json', 'package-lock.json', 'build.ts']);
    expect(files).toContain(join('src', 'server.ts'));
    expect(files).toContain(join('src', 'routes', 'items.ts'));
    const copy = temp();
    for (const file of files) cpSync(join(REFERENCE_APP_DIR, file), join(copy, file), { recursive: true });
    const key = () => imageKey(process.execPath, [], copy, files);
    const before = key();
    expect(key()).toBe(before);
    writeFileSync(join(copy, 'src', 'main.ts'), `${readFileSync(join(copy, 'src', 'main.ts'), 'utf8')}\n// changed\n`);
    const afterSrc = key();
    expect(afterSrc).not.toBe(before);
    writeFileSync(join(copy, 'build.ts'), `${readFileSync(join(copy, 'build.ts'), 'utf8')}\n// changed\n`);
    expect(key()).not.toBe(afterSrc);
  });

  it('builds dist/ as the build stage does: an entry that loads main (fastify, pg, pino) only through a dynamic import', async () => {
    const outdir = join(temp(), 'dist');
    await buildDist(REFERENCE_APP_DIR, outdir);
    const entry = readFileSync(join(outdir, 'server.mjs'), 'utf8');
    expect(entry).not.toMatch(/^import\s[^;]*["'](fastify|pg|pino)["']/m);
    expect(entry).toMatch(/await import\("\.\/chunks\/main-[A-Z0-9]+\.mjs"\)/);
  });
});

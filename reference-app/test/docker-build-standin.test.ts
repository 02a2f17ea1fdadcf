// A STAND-IN FOR `docker build -t slo-reference-app:dev reference-app`: there is no Docker engine on this
// machine, so support/dockerfile.ts follows the Dockerfile's lines in temp folders (the context filtered by
// .dockerignore, the COPY lines, the RUN lines' `npm ci` and `npm run build`, ENV and CMD) and the service is
// started from that copy against a throwaway PostgreSQL. It proves the build context is self-sufficient, that
// the image holds compiled JavaScript and nothing from outside reference-app, and that the entry loads no
// OpenTelemetry package up front; it does not prove the base image or a real layer build.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTracingPackage } from '../build.ts';
import { buildStandIn, dockerignoreFilter, filesUnder, imageFiles, isInside, type StandInImage } from './support/dockerfile.ts';
import { freePort, startPostgres, type PostgresHandle } from './support/postgres.ts';

const APP_DIR = realpathSync(fileURLToPath(new URL('../', import.meta.url)));

interface LockEntry { version: string; dev?: boolean }
const lock = JSON.parse(readFileSync(join(APP_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Module specifiers a file imports statically at its top level (`import ... from "x"`, `import "x"`). */
function staticImports(text: string): string[] {
  return [...text.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];?\s*$/gm)].map((m) => m[1] as string);
}

let db: PostgresHandle;
let image: StandInImage;
const scratch: string[] = [];

beforeAll(async () => {
  db = await startPostgres();
  image = buildStandIn(APP_DIR);
  scratch.push(dirname(image.root));
}, 300_000);

afterAll(async () => {
  await db?.stop();
  for (const folder of scratch) rmSync(folder, { recursive: true, force: true });
});

describe('stand-in for docker build of reference-app/ (no Docker engine here)', () => {
  it('the final image holds package.json and the compiled dist/ only: no TypeScript, every context file from reference-app', () => {
    const appFiles = imageFiles(image, image.workdir).filter((f) => !f.startsWith('node_modules/'));
    expect(appFiles.filter((f) => f !== 'package.json' && !f.startsWith('dist/'))).toEqual([]);
    expect(appFiles).toContain('dist/server.mjs');
    expect(appFiles.filter((f) => f.startsWith('dist/') && !f.endsWith('.mjs'))).toEqual([]);
    expect(image.copiedFromContext.map((f) => f.imagePath)).toEqual(['/app/package.json']);
    for (const file of image.copiedFromContext) expect(isInside(APP_DIR, realpathSync(file.source)), file.source).toBe(true);
    // No source file reaches out of the service's folder (the import the harness's error catalog once was).
    for (const file of filesUnder(APP_DIR, 'src')) {
      expect(readFileSync(join(APP_DIR, 'src', file), 'utf8'), file).not.toMatch(/(?:from|import|import\()\s*'\.\.\/\.\.\//);
    }
  });

  it('the entry loads no OpenTelemetry package up front, and main.ts stays behind a dynamic import', () => {
    const dist = join(image.root, image.workdir, 'dist');
    const eager = new Set<string>();
    const visit = (file: string): void => {
      for (const specifier of staticImports(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
        else eager.add(specifier);
      }
    };
    visit(join(dist, 'server.mjs'));
    expect([...eager].filter(isTracingPackage)).toEqual([]);
    expect(eager.has('zod')).toBe(true); // the parser sees the config's own import
    const chunks = imageFiles(image, `${image.workdir}/dist`).filter((f) => f !== 'server.mjs');
    const mainChunk = chunks.find((f) => staticImports(readFileSync(join(dist, f), 'utf8')).includes('fastify'));
    expect(mainChunk, chunks.join(', ')).toBeDefined();
    expect(readFileSync(join(dist, 'server.mjs'), 'utf8')).toContain(`await import("./${mainChunk}")`);
  });

  it('node_modules holds the production dependencies of package-lock.json and no dev dependency', () => {
    const installed = Object.keys(lock.packages).filter((path) => path !== '' && existsSync(join(image.root, image.workdir, path)));
    expect(installed.filter((path) => lock.packages[path]?.dev)).toEqual([]);
    for (const name of Object.keys(manifest.dependencies)) {
      const pkg = JSON.parse(readFileSync(join(image.root, image.workdir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(pkg.version, name).toBe(manifest.dependencies[name]);
    }
    // @types/node and @types/pg can also be dependencies of production packages, so only what the
    // lockfile marks dev-only must be absent.
    const devOnly = Object.keys(manifest.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev);
    expect(devOnly).toContain('typescript');
    for (const name of devOnly) expect(existsSync(join(image.root, image.workdir, 'node_modules', name)), name).toBe(false);
  });

  it('this machine is a fair stand-in for the base image: the same Node major', () => {
    const major = /^node:(\d+)/.exec(image.baseImage)?.[1];
    expect(major).toBe(process.versions.node.split('.')[0]);
    expect(image.cmd).toEqual(['node', 'dist/server.mjs']); // precompiled: no loader transpiles at start
  });

  it('starts from the copy alone with the image CMD and ENV: /health and /ready 200, SIGTERM exits 0', async () => {
    const cwd = join(image.root, image.workdir);
    // Node looks for packages in every ancestor's node_modules: none may exist above the copy, or a module
    // missing from the image could still be found on this machine.
    for (let folder = dirname(cwd); ; folder = dirname(folder)) {
      expect(existsSync(join(folder, 'node_modules')), folder).toBe(false);
      if (folder === parse(folder).root) break;
    }
    const [command, ...args] = image.cmd;
    expect(command).toBe('node');
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...image.env, HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: db.url, DRAIN_DELAY_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      let ready = 0;
      while (Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`${base}/ready`).then((r) => r.status, () => 0);
        if (ready === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(ready, output).toBe(200);
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      expect((await fetch(`${base}/api/items/7`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('the stand-in can tell a broken context from a good one', () => {
  function context(dockerfile: string, dockerignore = '**\n!package.json\n!src/**\n'): string {
    const root = mkdtempSync(join(tmpdir(), 'slo-docker-ctx-'));
    scratch.push(root);
    const dir = join(root, 'app');
    mkdirSync(join(dir, 'src'), { recursive: true });
    mkdirSync(join(dir, 'test'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'src', 'server.ts'), '');
    writeFileSync(join(dir, 'test', 'a.test.ts'), '');
    writeFileSync(join(root, 'outside.ts'), '');
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    writeFileSync(join(dir, '.dockerignore'), dockerignore);
    return dir;
  }

  it.each([
    ['a file outside the context', 'FROM node:20\nWORKDIR /app\nCOPY ../outside.ts ./\n', /outside the build context/],
    ['a file .dockerignore excludes', 'FROM node:20\nWORKDIR /app\nCOPY test ./test\n', /excluded by .dockerignore/],
    ['a file that does not exist', 'FROM node:20\nWORKDIR /app\nCOPY harness/errors.ts ./harness/\n', /not in the build context/],
    ['a RUN it cannot follow', 'FROM node:20\nRUN apt-get install -y curl\n', /does not know this command/],
    ['a file another stage does not hold', 'FROM node:20 AS build\nWORKDIR /app\nFROM node:20\nWORKDIR /app\nCOPY --from=build /app/dist ./dist\n', /not in that stage/],
  ])('refuses %s', (_name, dockerfile, error) => {
    expect(() => buildStandIn(context(dockerfile))).toThrow(error);
  });

  it('reads .dockerignore the way Docker does for this folder', () => {
    const admitted = dockerignoreFilter(readFileSync(join(APP_DIR, '.dockerignore'), 'utf8'));
    expect(['package.json', 'package-lock.json', 'build.ts', 'src/server.ts', 'src/routes/items.ts'].filter(admitted)).toHaveLength(5);
    expect(['Dockerfile', 'test/api.test.ts', 'node_modules/pg/package.json', 'k8s/base/deployment.yaml', 'tsconfig.json', 'dist/server.mjs'].filter(admitted)).toEqual([]);
  });
});

// A stand-in for `docker build` on a machine without a Docker engine: it follows the Dockerfile's own lines
// in temp folders, one per stage, so a test can prove the build context (reference-app/ alone) is enough.
//
// What it does like Docker: the context is the folder filtered by its .dockerignore; COPY takes sources from
// that filtered context (or --from=<stage>) and fails when a source is missing or ignored; WORKDIR, ENV and
// CMD are followed; RUN's `npm ci ...` and `npm run <script>` run in the stage's WORKDIR with the stage's
// ENV. What it does not: base images (this machine's Node and npm stand in for the FROM image, checked to be
// the same Node major), users and ownership (--chown, USER), layers. `npm cache clean` is skipped (here it
// would empty this machine's npm cache; in the image it only makes the layer smaller), and `npm ci` gets
// --prefer-offline so it takes the tarballs from the cache the repository's install filled. Any other RUN
// command is refused, so a Dockerfile that grows one makes the stand-in fail instead of silently skipping it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize, posix, relative, sep } from 'node:path';

export type Instruction = { keyword: string; args: string };

/** Instructions in order: continuation lines joined, comments and blank lines dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    const space = whole.search(/\s/);
    instructions.push(space < 0
      ? { keyword: whole.toUpperCase(), args: '' }
      : { keyword: whole.slice(0, space).toUpperCase(), args: whole.slice(space + 1).trim() });
  }
  if (pending.trim() !== '') throw new Error('Dockerfile ends inside a continued line');
  return instructions;
}

/** `.dockerignore` as Docker reads it, for the syntax this folder uses: `**`, `*`, `?`, `!` re-includes. */
export function dockerignoreFilter(text: string): (relativePath: string) => boolean {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const negated = line.startsWith('!');
    const pattern = posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, ''));
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] as string;
      if (c === '*' && pattern[i + 1] === '*') {
        source += '.*';
        i++;
        if (pattern[i + 1] === '/') i++; // `**/` also matches no folder at all
      } else if (c === '*') source += '[^/]*';
      else if (c === '?') source += '[^/]';
      else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return { negated, regex: new RegExp(`^${source}$`) };
  });
  // A pattern that matches a folder matches everything in it; the last matching rule wins.
  return (relativePath) => {
    const parts = relativePath.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let included = true;
    for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) included = rule.negated;
    return included;
  };
}

/** Every file under `root`/`folder`, as paths relative to `root`/`folder` with `/` separators. */
export function filesUnder(root: string, folder = ''): string[] {
  return listFiles(join(root, folder));
}

function listFiles(root: string, folder = ''): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
    return entry.isDirectory() ? listFiles(root, path) : [path];
  });
}

export interface CopiedFile {
  /** Absolute path of the source on this machine (for a context COPY). */
  source: string;
  /** Path inside the final image, e.g. /app/src/server.ts. */
  imagePath: string;
}

export interface StandInImage {
  /** The final stage's filesystem root on this machine; image paths are relative to it. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  /** Every file a COPY took from the build context into the final stage. */
  copiedFromContext: CopiedFile[];
  /** The FROM image of the final stage, e.g. node:20-bookworm-slim. */
  baseImage: string;
  /** What the stand-in did not do as Docker would, for the test's report. */
  skipped: string[];
}

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  baseImage: string;
  copiedFromContext: CopiedFile[];
}

function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of args.split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`ENV ${args}: only the KEY=value form is supported`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Follows `dockerfile` with `context` as the build context; everything happens under a fresh temp folder. */
export function buildStandIn(context: string, dockerfile = join(context, 'Dockerfile')): StandInImage {
  const contextRoot = realpathSync(context);
  const ignore = readFileSync(join(contextRoot, '.dockerignore'), 'utf8');
  const admitted = dockerignoreFilter(ignore);
  const contextFiles = new Set(listFiles(contextRoot).filter(admitted));
  const work = mkdtempSync(join(tmpdir(), 'slo-docker-standin-'));
  const stages: Stage[] = [];
  const skipped: string[] = [];

  for (const { keyword, args } of parseDockerfile(readFileSync(dockerfile, 'utf8'))) {
    if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const stageName = as?.toUpperCase() === 'AS' && name ? name : String(stages.length);
      const root = join(work, `stage-${stages.length}`);
      mkdirSync(root);
      stages.push({ name: stageName, root, workdir: '/', env: {}, cmd: [], baseImage: image, copiedFromContext: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before FROM`);
    const inStage = (imagePath: string) => join(stage.root, imagePath);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        mkdirSync(inStage(stage.workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(stage.env, parseEnv(args));
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[];
        break;
      case 'USER':
      case 'EXPOSE':
        skipped.push(`${keyword} ${args}`);
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const flags = words.filter((w) => w.startsWith('--'));
        const paths = words.filter((w) => !w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        if (flags.some((f) => f.startsWith('--chown='))) skipped.push(`COPY ${flags.join(' ')} (ownership)`);
        const dest = paths.pop();
        if (!dest || paths.length === 0) throw new Error(`COPY ${args}: needs sources and a destination`);
        const destPath = posix.resolve(stage.workdir, dest);
        const intoFolder = dest.endsWith('/') || paths.length > 1;
        for (const source of paths) {
          if (from !== undefined) {
            const fromStage = stages.find((s) => s.name === from);
            if (!fromStage) throw new Error(`COPY --from=${from}: no such stage`);
            if (!existsSync(join(fromStage.root, source))) throw new Error(`COPY --from=${from} ${source}: not in that stage`);
            cpSync(join(fromStage.root, source), inStage(intoFolder ? posix.join(destPath, posix.basename(source)) : destPath), { recursive: true, verbatimSymlinks: true });
            continue;
          }
          const clean = normalize(source).split(sep).join('/').replace(/\/+$/, '');
          if (isAbsolute(source) || clean === '..' || clean.startsWith('../')) throw new Error(`COPY ${source}: outside the build context`);
          const matched = [...contextFiles].filter((f) => f === clean || f.startsWith(`${clean}/`));
          if (matched.length === 0) throw new Error(`COPY ${source}: not in the build context (missing, or excluded by .dockerignore)`);
          for (const file of matched) {
            const absolute = join(contextRoot, file);
            if (lstatSync(absolute).isSymbolicLink()) throw new Error(`COPY ${source}: ${file} is a symbolic link`);
            const rest = file === clean ? posix.basename(file) : file.slice(clean.length + 1);
            const target = file === clean
              ? (intoFolder ? posix.join(destPath, rest) : destPath)
              : posix.join(destPath, rest);
            mkdirSync(join(stage.root, posix.dirname(target)), { recursive: true });
            cpSync(absolute, inStage(target));
            stage.copiedFromContext.push({ source: absolute, imagePath: target });
          }
        }
        break;
      }
      case 'RUN':
        for (const command of args.split('&&').map((c) => c.trim())) {
          const argv = command.split(/\s+/);
          const run = (npmArgs: string[]) => execFileSync('npm', npmArgs, {
            cwd: inStage(stage.workdir),
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...stage.env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          if (argv[0] === 'npm' && argv[1] === 'ci') {
            run([...argv.slice(1), '--prefer-offline']);
          } else if (argv[0] === 'npm' && argv[1] === 'run' && argv.length >= 3) {
            run(argv.slice(1)); // the stage's own package.json script, on the stage's own node_modules
          } else if (argv[0] === 'npm' && argv[1] === 'cache' && argv[2] === 'clean') {
            skipped.push(`RUN ${command} (would empty this machine's npm cache)`);
          } else {
            throw new Error(`RUN ${command}: the docker build stand-in does not know this command; teach it or build with Docker`);
          }
        }
        break;
      default:
        throw new Error(`${keyword}: not supported by the docker build stand-in`);
    }
  }

  const final = stages.at(-1);
  if (!final) throw new Error('Dockerfile has no FROM');
  return {
    root: final.root,
    workdir: final.workdir,
    env: final.env,
    cmd: final.cmd,
    copiedFromContext: final.copiedFromContext,
    baseImage: final.baseImage,
    skipped,
  };
}

/** Files of the stand-in image under `imagePath`, relative to it. */
export function imageFiles(image: StandInImage, imagePath: string): string[] {
  return listFiles(join(image.root, imagePath));
}

/** True when `path` is `folder` or inside it (both real paths). */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

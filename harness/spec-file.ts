// Reading the SLO spec: YAML text or a file -> the contract's validated spec. The schema and its rules are
// pure (contract/spec.ts); only here are files read, YAML parsed and script paths resolved against the
// spec file's folder.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { errors } from '../contract/errors.ts';
import { defaultSpec, validateSpec, type SloSpec } from '../contract/spec.ts';

/**
 * YAML text -> validated, frozen spec. `source` names the text in messages; when it is a file path, relative
 * script paths in `scenario` are resolved against that file's folder (else against the working folder).
 */
export function parseSpec(text: string, source: string): SloSpec {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      // The yaml library repeats the position at the end of its first line; keep one copy, in front.
      const message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      return pos ? `line ${pos.line}:${pos.col}: ${message}` : message;
    });
    throw errors.SLO_ERR_SPEC_INVALID(`${source}: ${lines.join('; ')}`, 'fix the YAML syntax');
  }
  const base = source.startsWith('<') ? process.cwd() : dirname(resolve(source));
  return validateSpec(doc.toJS(), source, { resolveScript: (scenario) => (isAbsolute(scenario) ? scenario : resolve(base, scenario)) });
}

/** Reads a spec file; without a file, the built-in defaults. */
export function loadSpec(file?: string): SloSpec {
  if (file === undefined) return defaultSpec();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw errors.SLO_ERR_SPEC_NOT_FOUND(`cannot read spec ${file}: ${(cause as Error).message}`, 'pass an existing file with --config', { cause });
  }
  return parseSpec(text, file);
}

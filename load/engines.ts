// The load engines, in one typed map: `--engine <name>` (or the spec's `load.engine`) picks one; an unknown
// name is a clear error before anything starts.
import { EmbeddedEngine } from './embedded-engine.ts';
import type { EngineName, LoadEngine } from './engine.ts';
import { K6Engine } from './k6/engine.ts';

export const loadEngines = {
  embedded: () => new EmbeddedEngine(),
  k6: () => new K6Engine(),
} as const satisfies Record<EngineName, () => LoadEngine>;

export function createLoadEngine(name: EngineName): LoadEngine {
  return loadEngines[name]();
}

// In a cluster the load generator runs apart from the service; on one machine they share the CPUs. The
// generator gets a higher scheduling priority so a busy service slows its own responses, not the generator's
// clock (a CPU-starved generator would measure its own queueing). Linux niceness is per thread and Go starts
// its threads at once, so the engine is started under `nice` (every thread inherits it) rather than reniced
// after the fact. Raising priority needs root; without it the engine runs as is and the saturation check
// still catches a starved generator.
export const LOAD_GENERATOR_NICENESS = -10;

export function prioritized(command: string, args: readonly string[], isRoot = process.getuid?.() === 0): [string, string[]] {
  return isRoot ? ['nice', ['-n', String(LOAD_GENERATOR_NICENESS), command, ...args]] : [command, [...args]];
}

import type { Verdict } from '../verifiers/types.ts';

/** The verdict with this id; throws (failing the test) with the ids present when there is none. */
export function verdictById(verdicts: readonly Verdict[], id: string): Verdict {
  const found = verdicts.find((v) => v.id === id);
  if (!found) throw new Error(`no verdict ${id}; have: ${verdicts.map((v) => v.id).join(', ')}`);
  return found;
}

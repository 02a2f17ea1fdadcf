// Specs for tests, written as YAML the way users write them, validated by the contract's schema.
import { parse } from 'yaml';
import { validateSpec, type SloSpec } from '../contract/spec.ts';

export function specFromYaml(text: string, source = '<test>'): SloSpec {
  return validateSpec(parse(text) as unknown, source);
}

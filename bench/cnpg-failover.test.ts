import { describe, expect, it } from 'vitest';
import { writesBack } from './cnpg-failover.ts';

describe('writes back after a failover (bench/cnpg-failover.ts)', () => {
  const s = (t: number, requests: number, failed: number) => ({ t, requests, failed });
  it('is the first second with a successful write after the last failed one, from the action start', () => {
    expect(writesBack(10_200, Infinity, [s(9000, 10, 0), s(10_000, 10, 8), s(11_000, 10, 10), s(12_000, 10, 0)])).toBe(1.8);
  });
  it('stops before the second holding the next failover, whose failures are not this one\'s', () => {
    const seconds = [s(10_000, 10, 10), s(11_000, 10, 0), s(12_000, 10, 0), s(70_000, 10, 3)];
    expect(writesBack(10_200, 70_000, seconds)).toBe(0.8);
    expect(writesBack(10_200, Infinity, seconds)).toBeNull();
  });
});

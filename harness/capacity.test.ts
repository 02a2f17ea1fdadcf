import { describe, expect, it } from 'vitest';
import { findCapacity, type ProbeOutcome } from './capacity.ts';

/** A service whose SLOs hold up to `limit` req/s, and a generator that saturates above `generatorMax`. */
function service(limit: number, generatorMax = Number.POSITIVE_INFINITY) {
  const tried: number[] = [];
  const probe = async (rate: number): Promise<ProbeOutcome> => {
    tried.push(rate);
    if (rate > generatorMax) return 'invalid';
    return rate <= limit ? 'pass' : 'fail';
  };
  return { probe, tried };
}

describe('capacity search', () => {
  it.each([
    [100, 20, 400],
    [37, 20, 400],
    [250, 10, 1000],
  ])('finds a limit of %i req/s within 10 %% (from %i to %i)', async (limit, from, to) => {
    const { probe } = service(limit);
    const result = await findCapacity(probe, { from, to, maxProbes: 20 });
    expect(result.highestPassing).not.toBeNull();
    expect(result.highestPassing!).toBeLessThanOrEqual(limit);
    expect(result.lowestFailing!).toBeGreaterThan(limit);
    expect((result.lowestFailing! - result.highestPassing!) / result.highestPassing!).toBeLessThanOrEqual(0.1);
  });

  it('reports no passing rate when the lowest already fails', async () => {
    const { probe, tried } = service(5);
    const result = await findCapacity(probe, { from: 20, to: 400 });
    expect(result).toMatchObject({ highestPassing: null, lowestFailing: 20 });
    expect(tried).toEqual([20]);
  });

  it('stops at the top of the range when everything passes', async () => {
    const { probe, tried } = service(10_000);
    const result = await findCapacity(probe, { from: 50, to: 300 });
    expect(result.highestPassing).toBe(300);
    expect(result.lowestFailing).toBeNull();
    expect(tried.at(-1)).toBe(300);
  });

  it('stops searching, and says where, when the load generator saturates', async () => {
    const { probe } = service(10_000, 150);
    const result = await findCapacity(probe, { from: 40, to: 1000 });
    expect(result.invalidAt).toBe(160);
    expect(result.highestPassing).toBe(80);
  });

  it('never probes more than maxProbes rates', async () => {
    const { probe, tried } = service(333);
    await findCapacity(probe, { from: 1, to: 100_000, maxProbes: 6 });
    expect(tried.length).toBeLessThanOrEqual(6);
  });
});

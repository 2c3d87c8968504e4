import { describe, expect, it } from 'vitest';
import { suppressionMask } from '../src/domain/reports/engagement.js';
import { twoProportionPValue, wilson } from '../src/domain/reports/stats.js';

const k = (flagged: number, contacted = 0, responded = 0) => ({
  flagged,
  accepted: 0,
  contacted,
  responded,
  sustained: 0,
  positive: 0,
  costCents: 0,
});

describe('statistics', () => {
  it('Wilson intervals match published values', () => {
    expect(wilson(8, 10)).toEqual({ value: 0.8, ci95: [0.4902, 0.9433] });
    expect(wilson(0, 10)).toEqual({ value: 0, ci95: [0, 0.2775] });
    expect(wilson(76, 569)!.ci95).toEqual([0.1081, 0.164]);
    expect(wilson(1, 0)).toBeNull();
  });

  it('two-proportion z-test p-values', () => {
    // 60/100 vs 40/100: z ≈ 2.828, p ≈ 0.00468
    expect(twoProportionPValue(60, 100, 40, 100)).toBeCloseTo(0.00468, 4);
    expect(twoProportionPValue(5, 10, 5, 10)).toBe(1);
    expect(twoProportionPValue(1, 0, 1, 1)).toBeNull();
  });
});

describe('small-cell suppression', () => {
  it('hides counts below the minimum but above zero', () => {
    const m = suppressionMask([k(10, 3), k(20, 0)], k(30, 3), 5);
    expect([...m.rows[0]!]).toEqual(['contacted']);
    expect([...m.total]).toEqual(['contacted']);
  });

  it('never leaves one hidden cell recoverable from the total', () => {
    const m = suppressionMask([k(3), k(10), k(12)], k(25), 5);
    expect(m.rows[0]!.has('flagged')).toBe(true);
    expect(m.rows[1]!.has('flagged')).toBe(true);
    expect(m.rows[2]!.has('flagged')).toBe(false);
    expect(m.total.has('flagged')).toBe(false);
  });

  it('hides the total when it is the only other cell', () => {
    const m = suppressionMask([k(3), k(0)], k(7), 5);
    expect(m.rows[0]!.has('flagged')).toBe(true);
    expect(m.total.has('flagged')).toBe(true);
  });
});

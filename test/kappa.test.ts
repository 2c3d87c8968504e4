import { describe, expect, it } from 'vitest';
import { cohensKappa, kappaFromTable } from '../src/domain/reports/kappa.js';

/** The multinomial delta method, by numerical gradient: the derivation FCE (1969) put in closed form. */
function deltaMethodVariance(table: number[][]): number {
  const n = table.flat().reduce((s, c) => s + c, 0);
  const p = table.map((row) => row.map((c) => c / n));
  const kappaOf = (q: number[][]) => {
    const rows = q.map((r) => r.reduce((s, x) => s + x, 0));
    const cols = q[0]!.map((_, j) => q.reduce((s, r) => s + r[j]!, 0));
    const po = q.reduce((s, r, i) => s + r[i]!, 0);
    const pe = rows.reduce((s, r, i) => s + r * cols[i]!, 0);
    return (po - pe) / (1 - pe);
  };
  const h = 1e-6;
  const grad = p.map((row, i) =>
    row.map((_, j) => {
      const up = p.map((r) => [...r]);
      const down = p.map((r) => [...r]);
      up[i]![j]! += h;
      down[i]![j]! -= h;
      return (kappaOf(up) - kappaOf(down)) / (2 * h);
    }),
  );
  let mean = 0;
  let square = 0;
  p.forEach((row, i) => {
    row.forEach((pij, j) => {
      mean += pij * grad[i]![j]!;
      square += pij * grad[i]![j]! ** 2;
    });
  });
  return (square - mean * mean) / n;
}

describe("Cohen's kappa", () => {
  it('matches the worked 3×3 example of Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions (3rd ed., §18.1)', () => {
    // Two raters' diagnoses of n = 100 subjects (rows rater A, columns rater B):
    //              psychotic neurotic organic | total
    //   psychotic     75        1        4    |  80
    //   neurotic       5        4        1    |  10
    //   organic        0        0       10    |  10
    //   total         80        5       15    | 100
    // po = (75 + 4 + 10)/100 = .89; pe = .80·.80 + .10·.05 + .10·.15 = .64 + .005 + .015 = .66
    // κ = (.89 − .66)/(1 − .66) = .23/.34 = .676471 (the book's .68); 1 − κ = .323529
    // Diagonal: .75·[1 − 1.60·.323529]² = .75·.482353² = .174498
    //           .04·[1 − 0.15·.323529]² = .04·.951471² = .036212
    //           .10·[1 − 0.25·.323529]² = .10·.919118² = .084478      Σ = .295188
    // Off-diagonal pᵢⱼ(p.ᵢ + pⱼ.)²: .01·(.80+.10)² + .04·(.80+.10)² + .05·(.05+.80)² + .01·(.05+.10)²
    //           = .0081 + .0324 + .036125 + .000225 = .07685; ·(1 − κ)² = .07685·.104671 = .008044
    // [κ − pe(1 − κ)]² = [.676471 − .66·.323529]² = .462941² = .214314
    // SE² = (.295188 + .008044 − .214314)/(100·.34²) = .088917/11.56 = .0076918; SE = .08770
    // 95%: .676471 ± 1.959964·.08770 = [.5046, .8484]
    const r = kappaFromTable([
      [75, 1, 4],
      [5, 4, 1],
      [0, 0, 10],
    ]);
    expect(r.n).toBe(100);
    expect(r.observedAgreement).toBeCloseTo(0.89, 10);
    expect(r.expectedAgreement).toBeCloseTo(0.66, 10);
    expect(r.kappa).toBeCloseTo(0.676471, 6);
    expect(r.se).toBeCloseTo(0.0877, 4);
    expect(r.ci95![0]).toBeCloseTo(0.5046, 3);
    expect(r.ci95![1]).toBeCloseTo(0.8484, 3);
  });

  it('gives the classic 2×2 by hand: 40 yes/yes, 10 disagreements each way, 40 no/no', () => {
    // po = .80, pe = .5·.5 + .5·.5 = .50, κ = .30/.50 = .6, 1 − κ = .4
    // Diagonal: 2 · .40·[1 − 1.0·.4]² = 2 · .40·.36 = .288
    // Off-diagonal: 2 · .10·(.5 + .5)² = .20; ·.16 = .032
    // [κ − pe(1 − κ)]² = [.6 − .2]² = .16
    // SE² = (.288 + .032 − .16)/(100·.25) = .16/25 = .0064; SE = .08
    const r = kappaFromTable([
      [40, 10],
      [10, 40],
    ]);
    expect(r.kappa).toBeCloseTo(0.6, 10);
    expect(r.se).toBeCloseTo(0.08, 10);
    expect(r.ci95![0]).toBeCloseTo(0.6 - 1.959964 * 0.08, 5);
  });

  it('is the delta-method variance it was derived as, on uneven tables', () => {
    const tables = [
      [
        [75, 1, 4],
        [5, 4, 1],
        [0, 0, 10],
      ],
      [
        [12, 3],
        [7, 9],
      ],
      [
        [20, 5, 1, 0],
        [2, 14, 3, 1],
        [0, 4, 9, 2],
        [1, 0, 2, 6],
      ],
    ];
    for (const table of tables) {
      const r = kappaFromTable(table);
      expect(r.se! ** 2).toBeCloseTo(deltaMethodVariance(table), 7);
    }
  });

  it('builds its table from pairs, whatever the order categories appear in', () => {
    const pairs: [string, string][] = [
      ...Array.from({ length: 40 }, () => ['yes', 'yes'] as [string, string]),
      ...Array.from({ length: 10 }, () => ['yes', 'no'] as [string, string]),
      ...Array.from({ length: 10 }, () => ['no', 'yes'] as [string, string]),
      ...Array.from({ length: 40 }, () => ['no', 'no'] as [string, string]),
    ];
    expect(cohensKappa(pairs).kappa).toBeCloseTo(0.6, 10);
    expect(cohensKappa([...pairs].reverse()).kappa).toBeCloseTo(0.6, 10);
  });

  it('is 1 with a zero-width interval under perfect agreement', () => {
    const r = cohensKappa([
      ['a', 'a'],
      ['b', 'b'],
      ['a', 'a'],
      ['c', 'c'],
    ]);
    expect(r.kappa).toBeCloseTo(1, 12);
    expect(r.se).toBeCloseTo(0, 12);
    expect(r.ci95![0]).toBeCloseTo(1, 12);
    expect(r.ci95![1]).toBe(1);
    expect(r.observedAgreement).toBe(1);
  });

  it('is null when both raters used one category only (pe = 1)', () => {
    const r = cohensKappa([
      ['a', 'a'],
      ['a', 'a'],
      ['a', 'a'],
    ]);
    expect(r).toMatchObject({ n: 3, kappa: null, se: null, ci95: null, observedAgreement: 1, expectedAgreement: 1 });
  });

  it('is null for no pairs', () => {
    expect(cohensKappa([])).toEqual({ n: 0, kappa: null, se: null, ci95: null, observedAgreement: null, expectedAgreement: null });
    expect(kappaFromTable([])).toMatchObject({ n: 0, kappa: null });
  });

  it('goes negative below chance and keeps its interval within [-1, 1]', () => {
    const r = kappaFromTable([
      [0, 5],
      [5, 0],
    ]);
    expect(r.kappa).toBeCloseTo(-1, 12);
    expect(r.ci95![0]).toBeGreaterThanOrEqual(-1);
    expect(r.ci95![1]).toBeLessThanOrEqual(1);
  });

  it('refuses a table that is not square', () => {
    expect(() => kappaFromTable([[1, 2], [3]])).toThrow(RangeError);
  });
});

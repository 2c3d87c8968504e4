import { describe, expect, it } from 'vitest';
import {
  holm,
  mantelHaenszelRiskDiff,
  meanWithTInterval,
  minimumDetectableDiff,
  newcombeDiff,
  normalQuantile,
  tQuantile,
} from '../src/domain/reports/inference.js';
import { normalCdf } from '../src/domain/reports/stats.js';

const Z975 = 1.959963984540054;
const Z95 = 1.6448536269514722;

describe('newcombeDiff (Newcombe 1998, method 10)', () => {
  // Newcombe RG. Interval estimation for the difference between independent proportions: comparison of eleven
  // methods. Stat Med 1998;17:873-890, Table II, method 10 (score, no continuity correction), examples (a)-(h).
  // The same figures are the SAS reference values in GSK-Biostatistics/cicalc and the expectations of
  // m-Py/propint's tests ("the results reported in Newcombe1998").
  const table2: [number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.0524, 0.3339], // (a)
    [9, 10, 3, 10, 0.1705, 0.809], // (b)
    [6, 7, 2, 7, 0.0582, 0.8062], // (c)
    [5, 56, 0, 29, -0.0381, 0.1926], // (d)
    [0, 10, 0, 20, -0.1611, 0.2775], // (e)
    [0, 10, 0, 10, -0.2775, 0.2775], // (f)
    [10, 10, 0, 20, 0.6791, 1], // (g)
    [10, 10, 0, 10, 0.6075, 1], // (h)
  ];
  for (const [x1, n1, x2, n2, lower, upper] of table2) {
    it(`matches Table II for ${x1}/${n1} − ${x2}/${n2}: (${lower}, ${upper})`, () => {
      const r = newcombeDiff(x1, n1, x2, n2);
      expect(r).not.toBeNull();
      expect(r!.value).toBeCloseTo(x1 / n1 - x2 / n2, 4);
      expect(r!.ci95).toEqual([lower, upper]);
    });
  }

  it('combines the two Wilson intervals by hand for 1/2 − 0/2', () => {
    // z = 1.959964, z² = 3.841459. Wilson for 1/2: centre = (0.5 + 3.841459/4)/(1 + 3.841459/2) = 1.460365/2.920729
    // = 0.5, half = 1.959964·sqrt(0.125 + 3.841459/16)/2.920729 = 1.959964·0.604228/2.920729 = 0.405469
    // → (0.094531, 0.905469). Wilson for 0/2: centre = half = 0.960365/2.920729 = 0.328810 → (0, 0.657620).
    // lower = 0.5 − sqrt((0.5 − 0.094531)² + (0.657620 − 0)²) = 0.5 − sqrt(0.164405 + 0.432464) = 0.5 − 0.772573
    // = −0.2726; upper = 0.5 + sqrt((0.905469 − 0.5)² + 0²) = 0.905469 → 0.9055.
    expect(newcombeDiff(1, 2, 0, 2)).toEqual({ value: 0.5, ci95: [-0.2726, 0.9055] });
  });

  it('mirrors when the groups are swapped and always contains the estimate', () => {
    for (const [x1, n1, x2, n2] of table2) {
      const ab = newcombeDiff(x1, n1, x2, n2)!;
      const ba = newcombeDiff(x2, n2, x1, n1)!;
      expect(ba.value).toBeCloseTo(-ab.value, 10);
      expect(ba.ci95[0]).toBeCloseTo(-ab.ci95[1], 10);
      expect(ba.ci95[1]).toBeCloseTo(-ab.ci95[0], 10);
      expect(ab.ci95[0]).toBeLessThanOrEqual(ab.value);
      expect(ab.ci95[1]).toBeGreaterThanOrEqual(ab.value);
    }
  });

  it('stays inside [−1, 1] at the extremes and refuses empty groups', () => {
    // 20/20 − 0/20: Wilson 20/20 is (0.838875, 1), 0/20 is (0, 0.161125); lower = 1 − sqrt(0.161125² + 0.161125²)
    // = 1 − 0.227864 = 0.7721; upper = 1 + sqrt(0 + 0) = 1.
    expect(newcombeDiff(20, 20, 0, 20)).toEqual({ value: 1, ci95: [0.7721, 1] });
    expect(newcombeDiff(0, 20, 20, 20)).toEqual({ value: -1, ci95: [-1, -0.7721] });
    expect(newcombeDiff(1, 0, 1, 5)).toBeNull();
    expect(newcombeDiff(1, 5, 0, 0)).toBeNull();
    expect(newcombeDiff(0, -1, 0, 5)).toBeNull();
  });
});

describe('holm (Holm 1979)', () => {
  it('matches R multtest::mt.rawp2adjp on the p-values in statsmodels test_multi.py (res_multtest1)', () => {
    // statsmodels/stats/tests/test_multi.py, pval0 and the "Holm" column of res_multtest1 (computed in R multtest):
    // 5.2365677720800005e-04, 2.5326455578199999e-03, 1.1990184863680001e-01, 1.4191288215860001e-01, then 1.
    const raw = [
      0.838541367553, 0.642193923795, 0.680845947633, 0.967833824309, 0.71626938238, 0.177096952723, 5.23656777208e-5, 0.0202732688798,
      0.00028140506198, 0.0149877310796,
    ];
    expect(holm(raw)).toEqual([1, 1, 1, 1, 1, 1, 0.000524, 0.141913, 0.002533, 0.119902]);
  });

  it('matches res_multtest2 of the same file, where monotonicity decides four of six values', () => {
    // Raw 0.002 … 0.012; (m − i + 1)·p = 0.012, 0.020, 0.024, 0.024, 0.020, 0.012; running max gives R's
    // Holm column 0.012, 0.02, 0.024, 0.024, 0.024, 0.024.
    expect(holm([0.002, 0.004, 0.006, 0.008, 0.01, 0.012])).toEqual([0.012, 0.02, 0.024, 0.024, 0.024, 0.024]);
    // Same values, shuffled: each keeps its own adjusted value.
    expect(holm([0.01, 0.002, 0.012, 0.006, 0.004, 0.008])).toEqual([0.024, 0.012, 0.024, 0.024, 0.02, 0.024]);
  });

  it('passes nulls through without counting them in m', () => {
    // m = 3: 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06.
    expect(holm([null, 0.04, 0.01, null, 0.03])).toEqual([null, 0.06, 0.03, null, 0.06]);
    expect(holm([null, null])).toEqual([null, null]);
    expect(holm([])).toEqual([]);
    expect(holm([0.03])).toEqual([0.03]);
  });

  it('gives tied p-values the same adjusted value, caps at 1 and rounds to 6 decimals', () => {
    // 0.02·3 = 0.06, 0.02·2 = 0.04 → 0.06, 0.04·1 = 0.04 → 0.06.
    expect(holm([0.02, 0.04, 0.02])).toEqual([0.06, 0.06, 0.06]);
    // 0.5·2 = 1; 0.6·1 = 0.6 → 1.
    expect(holm([0.6, 0.5])).toEqual([1, 1]);
    // 1/3 · 1 = 0.333333…; 0.1234567·2 = 0.2469134.
    expect(holm([1 / 3, 0.1234567])).toEqual([0.333333, 0.246913]);
  });

  it('never lowers a p-value and keeps the order of the raw p-values', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let trial = 0; trial < 200; trial++) {
      const raw = Array.from({ length: 1 + Math.floor(next() * 12) }, () => (next() < 0.15 ? null : next() ** 3));
      const adjusted = holm(raw);
      const m = raw.filter((p) => p !== null).length;
      raw.forEach((p, i) => {
        if (p === null) {
          expect(adjusted[i]).toBeNull();
          return;
        }
        const a = adjusted[i]!;
        expect(a).toBeGreaterThanOrEqual(Math.min(1, p) - 5e-7);
        expect(a).toBeLessThanOrEqual(Math.min(1, m * p) + 5e-7);
        raw.forEach((q, j) => {
          if (q !== null && q < p) expect(adjusted[j]!).toBeLessThanOrEqual(a);
        });
      });
    }
  });
});

describe('mantelHaenszelRiskDiff (Sato 1989 variance)', () => {
  it('matches the tolbutamide example of Rothman, Greenland & Lash, Modern Epidemiology 3rd ed. (2008), Table 15-1', () => {
    // UGDP deaths, tolbutamide vs placebo, by age: <55 8/106 vs 5/120; 55+ 22/98 vs 16/85.
    // The chapter's MH risk difference is 0.035 (90% CI −0.018, 0.088); metafor's test of this example
    // (tests/testthat/test_analysis_example_rothman2008.r) expects 0.0349 (90% CI −0.0176, 0.0874).
    // By hand: Σ(a·n2 − c·n1)/N = (8·120 − 5·106)/226 + (22·85 − 16·98)/183 = 1.902655 + 1.650273 = 3.552928;
    // Σ n1·n2/N = 12720/226 + 8330/183 = 56.283186 + 45.519126 = 101.802312; RD = 0.034900.
    // P = (106²·5 − 120²·8 + 12720·14/2)/226² + (98²·16 − 85²·22 + 8330·(−13)/2)/183² = 0.587752 − 1.774642
    //   = −1.186891; Q = (8·115 + 5·98)/452 + (22·69 + 16·76)/366 = 3.119469 + 7.469945 = 10.589414.
    // Var = (0.034900·(−1.186891) + 10.589414)/101.802312² = 10.547992/10363.711 = 0.0010178; SE = 0.031903.
    // 95%: 0.034900 ± 1.959964·0.031903 = (−0.0276, 0.0974).
    const r = mantelHaenszelRiskDiff([
      { x1: 8, n1: 106, x2: 5, n2: 120 },
      { x1: 22, n1: 98, x2: 16, n2: 85 },
    ]);
    expect(r).not.toBeNull();
    expect(r!.value).toBe(0.0349);
    expect(r!.strata).toBe(2);
    expect(r!.se).toBeCloseTo(0.031903, 6);
    expect(r!.ci95).toEqual([-0.0276, 0.0974]);
    const rd = 3.552928 / 101.802312;
    expect(rd - Z95 * r!.se).toBeCloseTo(-0.0176, 4);
    expect(rd + Z95 * r!.se).toBeCloseTo(0.0874, 4);
  });

  it('matches Agresti, Categorical Data Analysis 3rd ed. (2013), p. 231, on the eight-centre trial of p. 226', () => {
    // Agresti reports the MH risk difference 0.130 with SE 0.050 (Sato's estimator; the Greenland-Robins 1985 one
    // would give 0.0485). GSK-Biostatistics/cicalc's ci_prop_diff_mh_strata prints the 95% interval
    // (0.0313, 0.2284) for the same data. Centres 5 and 6 have no control successes: sparse strata, where
    // Sato's estimator is the one that stays consistent.
    const centres: [number, number, number, number][] = [
      [11, 36, 10, 37],
      [16, 20, 22, 32],
      [14, 19, 7, 19],
      [2, 16, 1, 17],
      [6, 17, 0, 12],
      [1, 11, 0, 10],
      [1, 5, 1, 9],
      [4, 6, 6, 7],
    ];
    const r = mantelHaenszelRiskDiff(centres.map(([x1, n1, x2, n2]) => ({ x1, n1, x2, n2 })));
    expect(r).not.toBeNull();
    expect(r!.value).toBeCloseTo(0.13, 3);
    expect(r!.se).toBeCloseTo(0.05, 3);
    expect(r!.ci95).toEqual([0.0313, 0.2284]);
    expect(r!.strata).toBe(8);
  });

  it('equals the crude difference with its Wald interval for a single stratum (Rothman 2008, Table 15-1, crude)', () => {
    // Crude tolbutamide table 30/204 vs 21/205: RD = 0.147059 − 0.102439 = 0.044620, which Table 15-1 gives as
    // 0.0446 with SE 0.0326. With one stratum Sato's variance reduces to p1q1/n1 + p2q2/n2
    // = 0.147059·0.852941/204 + 0.102439·0.897561/205 = 0.00061487 + 0.00044851 = 0.00106338; SE = 0.032610.
    // 95%: 0.044620 ± 1.959964·0.032610 = (−0.0193, 0.1085).
    const r = mantelHaenszelRiskDiff([{ x1: 30, n1: 204, x2: 21, n2: 205 }]);
    expect(r).toEqual({ value: 0.0446, ci95: [-0.0193, 0.1085], se: expect.any(Number), strata: 1 });
    const p1 = 30 / 204;
    const p2 = 21 / 205;
    expect(r!.se).toBeCloseTo(Math.sqrt((p1 * (1 - p1)) / 204 + (p2 * (1 - p2)) / 205), 12);
    expect(r!.se).toBeCloseTo(0.0326, 4);
  });

  it('drops uninformative strata and returns null when none is left', () => {
    const withEmpty = mantelHaenszelRiskDiff([
      { x1: 8, n1: 106, x2: 5, n2: 120 },
      { x1: 3, n1: 0, x2: 0, n2: 0 },
      { x1: 0, n1: 0, x2: 4, n2: 9 },
      { x1: 22, n1: 98, x2: 16, n2: 85 },
    ]);
    expect(withEmpty!.value).toBe(0.0349);
    expect(withEmpty!.ci95).toEqual([-0.0276, 0.0974]);
    expect(withEmpty!.strata).toBe(2);
    expect(mantelHaenszelRiskDiff([])).toBeNull();
    expect(mantelHaenszelRiskDiff([{ x1: 0, n1: 0, x2: 3, n2: 5 }])).toBeNull();
  });

  it('handles zero counts and complete separation without NaN', () => {
    // No events anywhere: RD = 0; P = (0 − 0 + 10·20·10/2)/30² > 0 but RD·P = 0 and Q = 0, so SE = 0.
    expect(mantelHaenszelRiskDiff([{ x1: 0, n1: 10, x2: 0, n2: 20 }])).toEqual({
      value: 0,
      ci95: [0, 0],
      se: 0,
      strata: 1,
    });
    // 6/6 vs 0/6: RD = 1; P = (0 − 36·6 + 0)/144 = −1.5, Q = 36/24 = 1.5 → Var = (−1.5 + 1.5)/9 = 0.
    expect(mantelHaenszelRiskDiff([{ x1: 6, n1: 6, x2: 0, n2: 6 }])).toEqual({
      value: 1,
      ci95: [1, 1],
      se: 0,
      strata: 1,
    });
    // A 0/n and an n/n stratum pulling opposite ways: a real interval, inside [−1, 1].
    const mixed = mantelHaenszelRiskDiff([
      { x1: 0, n1: 4, x2: 4, n2: 4 },
      { x1: 5, n1: 5, x2: 0, n2: 5 },
    ])!;
    expect(Number.isFinite(mixed.se)).toBe(true);
    expect(mixed.ci95[0]).toBeGreaterThanOrEqual(-1);
    expect(mixed.ci95[1]).toBeLessThanOrEqual(1);
  });
});

describe('minimumDetectableDiff', () => {
  it('computes the formula by hand', () => {
    // n1 = n2 = 100, p = 0.5: (1.959964 + 0.841621)·sqrt(0.25·0.02) = 2.801585·0.070711 = 0.198102 → 0.1981.
    expect(minimumDetectableDiff(100, 100, 0.5)).toBe(0.1981);
    // 50 vs 150 at p = 0.2: 2.801585·sqrt(0.16·(0.02 + 0.006667)) = 2.801585·0.065320 = 0.183000 → 0.183.
    expect(minimumDetectableDiff(50, 150, 0.2)).toBe(0.183);
    // Power 0.9 at p = 0.3: (1.959964 + 1.281552)·sqrt(0.21·0.02) = 3.241516·0.064807 = 0.210074 → 0.2101.
    expect(minimumDetectableDiff(100, 100, 0.3, 0.05, 0.9)).toBe(0.2101);
    // alpha 0.01: (2.575829 + 0.841621)·0.070711 = 3.417450·0.070711 = 0.241650 → 0.2417.
    expect(minimumDetectableDiff(100, 100, 0.5, 0.01)).toBe(0.2417);
  });

  it("agrees with Lehr's rule n = 16σ²/Δ² per group (Lehr 1992, Stat Med 11:1099-1102)", () => {
    // Lehr's 16 rounds 2·(1.96 + 0.84)² = 15.70, so Δ ≈ 4σ/√n, one percent high: σ² = p(1 − p).
    for (const [n, p] of [
      [100, 0.5],
      [400, 0.1],
      [2500, 0.3],
    ] as const) {
      const lehr = 4 * Math.sqrt((p * (1 - p)) / n);
      const mdd = minimumDetectableDiff(n, n, p)!;
      expect(mdd).toBeLessThan(lehr);
      expect(mdd).toBeGreaterThan(lehr * 0.985);
    }
  });

  it('uses the worst case p = 0.5 when no variance has been observed yet, and refuses empty groups', () => {
    expect(minimumDetectableDiff(100, 100, 0)).toBe(0.1981);
    expect(minimumDetectableDiff(100, 100, 1)).toBe(0.1981);
    expect(minimumDetectableDiff(100, 100, 0.01)).toBeLessThan(0.1981);
    expect(minimumDetectableDiff(0, 100, 0.5)).toBeNull();
    expect(minimumDetectableDiff(100, -3, 0.5)).toBeNull();
  });

  it('shrinks as the groups grow', () => {
    // Quadrupling both groups halves the detectable difference: 0.198102/2 = 0.099051 → 0.0991.
    expect(minimumDetectableDiff(400, 400, 0.5)).toBe(0.0991);
  });
});

describe('normalQuantile (Wichura 1988, AS 241)', () => {
  it('matches the z row of the NIST/SEMATECH e-Handbook t table (§1.3.6.7.2, ν = ∞) and the known 1.959963984540054', () => {
    expect(normalQuantile(0.9)).toBeCloseTo(1.282, 3);
    expect(normalQuantile(0.95)).toBeCloseTo(1.645, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(1.96, 3);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326, 3);
    expect(normalQuantile(0.995)).toBeCloseTo(2.576, 3);
    expect(normalQuantile(0.999)).toBeCloseTo(3.09, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(Z975, 14);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 14);
  });

  it('is symmetric, zero at one half and inverts normalCdf (A&S 7.1.26, error < 1.5e-7)', () => {
    expect(normalQuantile(0.5)).toBe(0);
    for (const p of [1e-8, 0.001, 0.02, 0.16, 0.3, 0.42, 0.49]) {
      expect(normalQuantile(1 - p)).toBeCloseTo(-normalQuantile(p), 7);
    }
    for (const p of [0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999]) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
    }
  });

  it('keeps its accuracy in the far tail (checked with the asymptotic series of the Mills ratio)', () => {
    // Φ(−x) = φ(x)/x·(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸ − …); at x ≈ 6.36 the next term is below 1e-5 relative.
    for (const p of [1e-10, 1e-20]) {
      const x = -normalQuantile(p);
      const x2 = x * x;
      const tail = (Math.exp(-x2 / 2) / Math.sqrt(2 * Math.PI) / x) * (1 - 1 / x2 + 3 / x2 ** 2 - 15 / x2 ** 3 + 105 / x2 ** 4);
      expect(tail / p).toBeCloseTo(1, 4);
    }
  });

  it('returns the limits at 0 and 1 and NaN outside', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});

describe('tQuantile', () => {
  it('matches the standard two-sided 95% critical values', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile(0.975, 5)).toBeCloseTo(2.5706, 4);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
  });

  it('matches the NIST/SEMATECH e-Handbook table of upper critical values of t (§1.3.6.7.2)', () => {
    // Rows ν = 1, 2, 5, 10, 30, 100; columns α = 0.10, 0.05, 0.025, 0.01, 0.005, 0.001.
    const nist: [number, number[]][] = [
      [1, [3.078, 6.314, 12.706, 31.821, 63.657, 318.313]],
      [2, [1.886, 2.92, 4.303, 6.965, 9.925, 22.327]],
      [5, [1.476, 2.015, 2.571, 3.365, 4.032, 5.893]],
      [10, [1.372, 1.812, 2.228, 2.764, 3.169, 4.143]],
      [30, [1.31, 1.697, 2.042, 2.457, 2.75, 3.385]],
      [100, [1.29, 1.66, 1.984, 2.364, 2.626, 3.174]],
    ];
    const alphas = [0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
    for (const [df, row] of nist) {
      row.forEach((critical, j) => {
        // 3 decimals, but two entries are off in the last place: 318.313 (exact 318.3088) and 4.143 (4.1437).
        expect(Math.abs(tQuantile(1 - alphas[j]!, df) - critical)).toBeLessThan(critical > 300 ? 5e-3 : 1e-3);
      });
    }
  });

  it('agrees with the closed forms for ν = 1, 2, 3 and 4 (Abramowitz & Stegun 26.7.3-26.7.4)', () => {
    // ν = 1: t = tan(π(p − ½)); t(0.975) = cot(0.025π) = 12.706205.
    expect(tQuantile(0.975, 1)).toBeCloseTo(1 / Math.tan(0.025 * Math.PI), 9);
    expect(tQuantile(0.9, 1)).toBeCloseTo(3.077684, 6);
    // ν = 2: t = (2p − 1)/sqrt(2p(1 − p)); t(0.975) = 0.95/sqrt(0.04875) = 4.302653.
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.302653, 6);
    // ν = 3 and 4: the two-sided coverage A(t|ν) from A&S 26.7.3 at the quantile returns 2p − 1.
    const coverage3 = (t: number) => {
      const th = Math.atan(t / Math.sqrt(3));
      return (2 / Math.PI) * (th + Math.sin(th) * Math.cos(th));
    };
    const coverage4 = (t: number) => {
      const th = Math.atan(t / 2);
      return Math.sin(th) * (1 + Math.cos(th) ** 2 / 2);
    };
    for (const p of [0.6, 0.9, 0.975, 0.995, 0.9999]) {
      expect(coverage3(tQuantile(p, 3))).toBeCloseTo(2 * p - 1, 10);
      expect(coverage4(tQuantile(p, 4))).toBeCloseTo(2 * p - 1, 10);
    }
  });

  it('is symmetric and tends to the normal quantile as ν grows', () => {
    for (const df of [3, 7, 25]) {
      expect(tQuantile(0.025, df)).toBeCloseTo(-tQuantile(0.975, df), 10);
    }
    expect(tQuantile(0.5, 12)).toBe(0);
    let previous = Number.POSITIVE_INFINITY;
    for (const df of [1, 2, 3, 5, 10, 30, 100, 1000, 1e4, 1e5, 1e6, 1e9]) {
      const t = tQuantile(0.975, df);
      expect(t).toBeLessThan(previous);
      expect(t).toBeGreaterThan(Z975);
      previous = t;
    }
    // A&S 26.7.5: t ≈ z + (z³ + z)/(4ν) = 1.959964 + 9.489085/(4·10⁴) = 1.960201 at ν = 10⁴.
    expect(tQuantile(0.975, 1e4)).toBeCloseTo(1.9602, 4);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(Z975, 5);
    expect(tQuantile(0.975, Number.POSITIVE_INFINITY)).toBeCloseTo(Z975, 12);
  });

  it('handles the edges: p of 0 and 1, and df below 1', () => {
    expect(tQuantile(0, 5)).toBe(Number.NEGATIVE_INFINITY);
    expect(tQuantile(1, 5)).toBe(Number.POSITIVE_INFINITY);
    expect(tQuantile(Number.NaN, 5)).toBeNaN();
    expect(() => tQuantile(0.975, 0.5)).toThrow(RangeError);
    expect(() => tQuantile(0.975, Number.NaN)).toThrow(RangeError);
    // Far tails stay finite and ordered: P(T > 1e5) for ν = 1 is 1/(π·1e5) = 3.183e-6.
    expect(tQuantile(1 - 1 / (Math.PI * 1e5), 1)).toBeCloseTo(1e5, -1);
  });
});

describe('meanWithTInterval', () => {
  it("matches Student's (1908) sleep data as analysed by R's t.test(extra ~ group, data = sleep, paired = TRUE)", () => {
    // Student. The probable error of a mean. Biometrika 1908;6:1-25 (Cushny & Peebles' hyoscine data, R's
    // datasets::sleep). Differences drug 2 − drug 1 per patient; R prints mean of the differences −1.58 and the
    // 95% interval −2.4598858 to −0.7001142 for drug 1 − drug 2.
    const diffs = [1.2, 2.4, 1.3, 1.3, 0, 1, 1.8, 0.8, 4.6, 1.4];
    expect(meanWithTInterval(diffs)).toEqual({ mean: 1.58, ci95: [0.7001, 2.4599] });
  });

  it('computes 1..5 and two values by hand', () => {
    // 1..5: mean 3, s² = 10/4 = 2.5, SE = sqrt(2.5/5) = 0.707107, t(0.975, 4) = 2.776445 → 3 ± 1.963243.
    expect(meanWithTInterval([1, 2, 3, 4, 5])).toEqual({ mean: 3, ci95: [1.0368, 4.9632] });
    // 3 and 5: mean 4, s = sqrt(2), SE = 1, t(0.975, 1) = 12.706205 → 4 ± 12.706205.
    expect(meanWithTInterval([3, 5])).toEqual({ mean: 4, ci95: [-8.7062, 16.7062] });
  });

  it('returns a degenerate interval for equal values and null for fewer than two', () => {
    expect(meanWithTInterval([0.1, 0.1, 0.1])).toEqual({ mean: 0.1, ci95: [0.1, 0.1] });
    expect(meanWithTInterval([0, 0])).toEqual({ mean: 0, ci95: [0, 0] });
    expect(meanWithTInterval([7])).toBeNull();
    expect(meanWithTInterval([])).toBeNull();
  });
});

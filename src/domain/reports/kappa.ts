// Cohen's kappa for two raters over nominal categories, with a large-sample 95% interval.

const Z95 = 1.959963984540054;

/** What `definition` says about how the interval was made. */
export const KAPPA_METHOD =
  "Cohen's kappa (1960) for two raters over nominal categories; 95% interval kappa ± 1.96·SE (clamped to [-1, 1]) " +
  'with the large-sample non-null standard error of Fleiss, Cohen & Everitt (1969), Psychological Bulletin 72(5):323–327';

export interface Kappa {
  /** Pairs rated. */
  n: number;
  /** Null when undefined: no pairs, or chance agreement of 1 (both raters used one category only). */
  kappa: number | null;
  se: number | null;
  ci95: [number, number] | null;
  observedAgreement: number | null;
  expectedAgreement: number | null;
}

const EMPTY: Kappa = { n: 0, kappa: null, se: null, ci95: null, observedAgreement: null, expectedAgreement: null };

/**
 * Kappa from a k×k table of counts (`table[i][j]`: rater A said category i, rater B said j).
 *
 * SE² = { Σᵢ pᵢᵢ[1 − (pᵢ. + p.ᵢ)(1 − κ)]² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ(p.ᵢ + pⱼ.)² − [κ − pₑ(1 − κ)]² } / (n(1 − pₑ)²)
 * (Fleiss, Cohen & Everitt 1969: the variance when kappa is not assumed to be 0).
 */
export function kappaFromTable(table: readonly (readonly number[])[]): Kappa {
  const k = table.length;
  for (const row of table) if (row.length !== k) throw new RangeError('kappa needs a square table');
  let n = 0;
  for (const row of table) for (const c of row) n += c;
  if (n <= 0) return EMPTY;
  const p = table.map((row) => row.map((c) => c / n));
  const rows = p.map((row) => row.reduce((s, x) => s + x, 0));
  const cols = p[0]!.map((_, j) => p.reduce((s, row) => s + row[j]!, 0));
  let po = 0;
  let pe = 0;
  for (let i = 0; i < k; i++) {
    po += p[i]![i]!;
    pe += rows[i]! * cols[i]!;
  }
  // pe is a sum of products of proportions: compare with a tolerance, not ===.
  if (pe >= 1 - 1e-12) return { ...EMPTY, n, observedAgreement: po, expectedAgreement: pe };
  const kappa = (po - pe) / (1 - pe);
  const q = 1 - kappa;
  let diagonal = 0;
  let offDiagonal = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const pij = p[i]![j]!;
      if (pij === 0) continue;
      if (i === j) diagonal += pij * (1 - (rows[i]! + cols[i]!) * q) ** 2;
      else offDiagonal += pij * (cols[i]! + rows[j]!) ** 2;
    }
  }
  const numerator = diagonal + q * q * offDiagonal - (kappa - pe * q) ** 2;
  // Rounding can leave a perfect table's zero variance a hair below 0.
  const variance = Math.max(0, numerator) / (n * (1 - pe) ** 2);
  const se = Math.sqrt(variance);
  const ci95: [number, number] = [Math.max(-1, kappa - Z95 * se), Math.min(1, kappa + Z95 * se)];
  return { n, kappa, se, ci95, observedAgreement: po, expectedAgreement: pe };
}

/** Kappa over pairs of ratings (`[rater A, rater B]`); categories are those that occur, in first-seen order. */
export function cohensKappa<C>(pairs: readonly (readonly [C, C])[]): Kappa {
  const index = new Map<C, number>();
  for (const [a, b] of pairs) {
    if (!index.has(a)) index.set(a, index.size);
    if (!index.has(b)) index.set(b, index.size);
  }
  const table = Array.from({ length: index.size }, () => new Array<number>(index.size).fill(0));
  for (const [a, b] of pairs) table[index.get(a)!]![index.get(b)!]! += 1;
  return kappaFromTable(table);
}

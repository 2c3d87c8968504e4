const Z95 = 1.959963984540054;

export interface Rate {
  value: number;
  ci95: [number, number];
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Wilson score interval: honest at small n and at 0 or 100 %, unlike the normal approximation. */
export function wilson(successes: number, n: number, z = Z95): Rate | null {
  if (n <= 0) return null;
  const x = Math.min(successes, n);
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { value: round(p), ci95: [round(Math.max(0, center - half)), round(Math.min(1, center + half))] };
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 on erf; error < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Two-sided p-value of the pooled two-proportion z-test; null when it is undefined. */
export function twoProportionPValue(x1: number, n1: number, x2: number, n2: number): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = (x1 / n1 - x2 / n2) / se;
  return round(2 * (1 - normalCdf(Math.abs(z))), 6);
}

export function rateDiff(x1: number, n1: number, x2: number, n2: number): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  return round(x1 / n1 - x2 / n2);
}

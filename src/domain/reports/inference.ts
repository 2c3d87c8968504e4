// Pure inference helpers for the reports: no I/O, no dependencies beyond Math.

export interface Diff {
  value: number;
  ci95: [number, number];
}

export interface Stratum {
  x1: number;
  n1: number;
  x2: number;
  n2: number;
}

// Plus zero so that a rounded -0.00001 reads as 0, not -0.
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits + 0;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Unrounded Wilson limits: rounding each side before combining them would move Newcombe's limits. */
function wilsonLimits(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/**
 * p1 - p2 with Newcombe's hybrid score interval (Newcombe 1998, method 10: Wilson limits of each proportion
 * combined, no continuity correction). null when n1 or n2 <= 0. Counts are clamped to [0, n] as `wilson` does.
 * value and limits rounded to 4 decimals, limits clamped to [-1, 1].
 */
export function newcombeDiff(x1: number, n1: number, x2: number, n2: number): Diff | null {
  if (!(n1 > 0 && n2 > 0)) return null;
  const a = clamp(x1, 0, n1);
  const c = clamp(x2, 0, n2);
  const p1 = a / n1;
  const p2 = c / n2;
  const [l1, u1] = wilsonLimits(a, n1, Z95);
  const [l2, u2] = wilsonLimits(c, n2, Z95);
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { value: round(d), ci95: [round(clamp(lower, -1, 1)), round(clamp(upper, -1, 1))] };
}

/**
 * Holm (1979) step-down adjusted p-values, same order as given; null (and NaN) entries pass through as null and
 * are not counted in m; results monotone, capped at 1, rounded to 6 decimals.
 */
export function holm(pValues: readonly (number | null)[]): (number | null)[] {
  const present: { p: number; at: number }[] = [];
  pValues.forEach((p, at) => {
    if (p !== null && !Number.isNaN(p)) present.push({ p, at });
  });
  present.sort((x, y) => x.p - y.p || x.at - y.at);
  const m = present.length;
  const out: (number | null)[] = pValues.map(() => null);
  let running = 0;
  present.forEach(({ p, at }, i) => {
    running = Math.max(running, Math.min(1, (m - i) * p));
    out[at] = round(running, 6);
  });
  return out;
}

/**
 * Mantel-Haenszel risk difference (p1 - p2) over strata, 95% interval from Sato's (1989) variance estimator, which
 * stays consistent both for many sparse strata and for few large ones. Strata with n1 = 0 or n2 = 0 are
 * uninformative and dropped; `strata` = informative strata used; null when none. A negative variance estimate is
 * clamped to 0. value/ci rounded to 4 decimals, limits clamped to [-1, 1]; se unrounded.
 */
export function mantelHaenszelRiskDiff(
  strata: readonly Stratum[],
): { value: number; ci95: [number, number]; se: number; strata: number } | null {
  let numerator = 0;
  let weight = 0;
  let sumP = 0;
  let sumQ = 0;
  let used = 0;
  for (const { x1: a, n1, x2: c, n2 } of strata) {
    if (!(n1 > 0 && n2 > 0)) continue;
    const total = n1 + n2;
    numerator += (a * n2 - c * n1) / total;
    weight += (n1 * n2) / total;
    sumP += (n1 * n1 * c - n2 * n2 * a + (n1 * n2 * (n2 - n1)) / 2) / (total * total);
    sumQ += (a * (n2 - c) + c * (n1 - a)) / (2 * total);
    used += 1;
  }
  if (used === 0) return null;
  const rd = numerator / weight;
  const variance = Math.max(0, (rd * sumP + sumQ) / (weight * weight));
  const se = Math.sqrt(variance);
  return {
    value: round(rd),
    ci95: [round(clamp(rd - Z95 * se, -1, 1)), round(clamp(rd + Z95 * se, -1, 1))],
    se,
    strata: used,
  };
}

/**
 * Smallest difference in proportions detectable with the given power by a two-sided test at alpha between groups
 * of n1 and n2 around baseline proportion p: (z_{1-alpha/2} + z_power) * sqrt(p(1-p)(1/n1+1/n2)). null when n1 or
 * n2 <= 0. When p is 0 or 1 (or outside (0, 1)) no variance has been observed yet, so p = 0.5 is used: the
 * conservative worst case, where p(1-p) is largest. Not capped at 1: with tiny groups the answer can exceed any
 * possible difference, which is itself the finding. Rounded to 4 decimals.
 */
export function minimumDetectableDiff(n1: number, n2: number, p: number, alpha = 0.05, power = 0.8): number | null {
  if (!(n1 > 0 && n2 > 0)) return null;
  const base = p > 0 && p < 1 ? p : 0.5;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return round(z * Math.sqrt(base * (1 - base) * (1 / n1 + 1 / n2)));
}

// Wichura (1988), Algorithm AS 241 (PPND16), Applied Statistics 37:477-484: about 16 correct digits. The published
// 20-digit coefficients are written as the doubles they round to.
const AS241_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087, 33430.57558358813,
  2509.0809287301227,
];
const AS241_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943, 5226.495278852854,
];
const AS241_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506,
  0.022723844989269184, 0.0007745450142783414,
];
const AS241_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457, 0.0005475938084995345,
  1.0507500716444169e-9,
];
const AS241_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784,
  0.000027115555687434876, 2.0103343992922881e-7,
];
const AS241_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 0.000018463183175100548, 1.421511758316446e-7,
  2.0442631033899397e-15,
];

const poly = (coefficients: readonly number[], x: number) => coefficients.reduceRight((acc, c) => acc * x + c, 0);

/** Standard normal quantile by Wichura's AS 241; -Infinity at 0, Infinity at 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(AS241_A, r)) / poly(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = poly(AS241_C, r) / poly(AS241_D, r);
  } else {
    r -= 5;
    x = poly(AS241_E, r) / poly(AS241_F, r);
  }
  return q < 0 ? -x : x;
}

const Z95 = normalQuantile(0.975);

// Lanczos approximation (g = 7, n = 9), relative error about 1e-15 for x > 0.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction for the incomplete beta function (modified Lentz), as in Numerical Recipes §6.4. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), with xc = 1 - x passed in so that it keeps its precision near 1. */
function incompleteBeta(x: number, xc: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (xc <= 0) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(xc));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(xc, b, a)) / b;
}

/** P(T > t) for t >= 0: half of I_{df/(df+t²)}(df/2, 1/2). */
function tUpperTail(t: number, df: number): number {
  const t2 = t * t;
  return 0.5 * incompleteBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5);
}

function tDensity(t: number, df: number): number {
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** Abramowitz & Stegun 26.7.5: the Cornish-Fisher expansion of the t quantile about the normal one. */
function cornishFisher(z: number, df: number): number {
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

/**
 * Student t quantile for df >= 1 (df = Infinity gives the normal quantile): exact closed forms for df = 1 and 2;
 * otherwise Newton's method on the regularized incomplete beta function, kept inside a bisection bracket, started
 * from the Cornish-Fisher expansion, which alone is used for df > 1e5 (its error there is far below 1e-9).
 */
export function tQuantile(p: number, df: number): number {
  if (!(df >= 1)) throw new RangeError(`tQuantile needs df >= 1, got ${df}`);
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  const sign = p < 0.5 ? -1 : 1;
  const tail = p < 0.5 ? p : 1 - p;
  // Cauchy, written with the tail probability so that it keeps its precision far out.
  if (df === 1) return sign / Math.tan(Math.PI * tail);
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = -normalQuantile(tail);
  if (df > 1e5) return sign * cornishFisher(z, df);
  // Bracket the root of P(T > t) = tail on t > 0, then polish with Newton steps that stay inside it.
  let lo = 0;
  let hi = Math.max(1, z);
  while (tUpperTail(hi, df) > tail) {
    lo = hi;
    hi *= 2;
  }
  let t = cornishFisher(z, df);
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const f = tUpperTail(t, df) - tail;
    if (f > 0) lo = t;
    else hi = t;
    let next = t + f / tDensity(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-13 * Math.max(1, t)) {
      t = next;
      break;
    }
    t = next;
  }
  return sign * t;
}

/**
 * Mean and two-sided 95% t interval (df = n-1) of the values; null when fewer than 2 values. Rounded to 4
 * decimals. When all values are equal the interval is [mean, mean].
 */
export function meanWithTInterval(values: readonly number[]): { mean: number; ci95: [number, number] } | null {
  const n = values.length;
  if (n < 2) return null;
  const first = values[0]!;
  if (values.every((v) => v === first)) return { mean: round(first), ci95: [round(first), round(first)] };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const squares = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  const half = tQuantile(0.975, n - 1) * Math.sqrt(squares / (n - 1) / n);
  return { mean: round(mean), ci95: [round(mean - half), round(mean + half)] };
}

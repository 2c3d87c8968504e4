import type { AssessmentFactor, FactorScore } from '../../db/schema/assessments.js';
import { meanWithTInterval } from '../reports/inference.js';

export type { AssessmentFactor, FactorScore } from '../../db/schema/assessments.js';

/** A factor's key: a short lowercase slug, as scores and the report carry it. */
export const FACTOR_KEY = /^[a-z][a-z0-9_]{0,39}$/;
/** The most factors a template may hold. */
export const FACTORS_MAX = 30;
/** The longest assessment note, in characters (after trimming). */
export const ASSESSMENT_NOTE_MAX = 4000;
/** The scores a factor may take; `null` is unknown (not assessed, or skipped). */
export const SCORE_VALUES = [0, 1, 2, 3] as const;

export type Scores = Record<string, FactorScore>;
/** Per factor: this score minus the previous one, or null when either is unknown or there is no previous one. */
export type Change = Record<string, number | null>;

/** The first key of `given` that is not one of the template's factors, or null. */
export function unknownFactor(factors: readonly AssessmentFactor[], given: Readonly<Record<string, unknown>>): string | null {
  const keys = new Set(factors.map((f) => f.key));
  return Object.keys(given).find((k) => !keys.has(k)) ?? null;
}

/** Every factor of the template, in its order, with the given score or null (a phone user may skip a factor). */
export function completeScores(factors: readonly AssessmentFactor[], given: Readonly<Record<string, FactorScore | undefined>>): Scores {
  return Object.fromEntries(factors.map((f) => [f.key, Object.hasOwn(given, f.key) ? (given[f.key] ?? null) : null]));
}

/** Against the case's previous assessment on the same template (null: there is none). */
export function changeFrom(current: Readonly<Scores>, previous: Readonly<Scores> | null): Change {
  return Object.fromEntries(
    Object.entries(current).map(([key, score]) => {
      const before = previous && Object.hasOwn(previous, key) ? previous[key] : null;
      return [key, score === null || typeof before !== 'number' ? null : score - before];
    }),
  );
}

/** One case's scores to compare: its earliest baseline and its latest closure on the template. */
export interface AssessmentPair {
  caseId: string;
  baseline: Readonly<Scores>;
  closure: Readonly<Scores>;
}

/** Per factor key, the changes (closure − baseline) of the cases where both scores are known. */
export function pairedChanges(factors: readonly AssessmentFactor[], pairs: readonly AssessmentPair[]): Map<string, number[]> {
  const out = new Map<string, number[]>(factors.map((f) => [f.key, []]));
  for (const p of pairs) {
    for (const f of factors) {
      const before = p.baseline[f.key];
      const after = p.closure[f.key];
      if (typeof before === 'number' && typeof after === 'number') out.get(f.key)!.push(after - before);
    }
  }
  return out;
}

export interface FactorFigure {
  key: string;
  label: string;
  /** Cases with both scores known; null when suppressed. */
  pairs: number | null;
  meanChange: number | null;
  ci95: [number, number] | null;
}

/**
 * A factor's figure: the mean change and its interval over `changes` (no interval for a single
 * pair), or every figure null when there are some pairs but fewer than `minCellSize` (too few to
 * publish); no pairs at all is 0.
 */
export function factorFigure(factor: AssessmentFactor, changes: readonly number[], minCellSize: number): FactorFigure {
  const n = changes.length;
  if (n > 0 && n < minCellSize) return { key: factor.key, label: factor.label, pairs: null, meanChange: null, ci95: null };
  // One pair (minCellSize 1) has a mean but no interval.
  const figure = n === 1 ? { mean: changes[0]!, ci95: null } : n > 1 ? meanWithTInterval(changes) : null;
  return { key: factor.key, label: factor.label, pairs: n, meanChange: figure?.mean ?? null, ci95: figure?.ci95 ?? null };
}

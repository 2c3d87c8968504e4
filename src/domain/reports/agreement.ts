import type { Tx } from '../../db/client.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { programSettings } from '../programs/settings.js';
import { closedReviewPairs, type ReviewPair } from '../reviews/store.js';
import type { Window } from './engagement.js';
import { cohensKappa, KAPPA_METHOD, type Kappa } from './kappa.js';

export interface AgreementFigure {
  kappa: number | null;
  ci95: [number, number] | null;
}

export interface Agreement {
  pairs: number;
  outcome: AgreementFigure & { observedAgreement: number | null };
  signals: (AgreementFigure & { code: string; pairs: number })[];
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
const figure = (k: Kappa, shown: boolean): AgreementFigure => ({
  kappa: shown ? round(k.kappa) : null,
  ci95: shown && k.ci95 ? [round(k.ci95[0])!, round(k.ci95[1])!] : null,
});

/**
 * Kappa of the outcome, and of each signal code as present/absent, over the pairs; every figure
 * is null with fewer than `minCellSize` pairs (too few to publish, and too few to be stable).
 * Codes are the codebook's, then any other code a review used, sorted.
 */
export function agreementOf(pairs: readonly ReviewPair[], codebook: readonly string[], minCellSize: number): Agreement {
  const shown = pairs.length >= minCellSize;
  const outcome = cohensKappa(pairs.map((p) => [p.a.outcome, p.b.outcome] as const));
  const used = new Set(pairs.flatMap((p) => [...p.a.signals, ...p.b.signals]));
  const codes = [...codebook, ...[...used].filter((c) => !codebook.includes(c)).sort()];
  return {
    pairs: pairs.length,
    outcome: { ...figure(outcome, shown), observedAgreement: shown ? round(outcome.observedAgreement) : null },
    signals: codes.map((code) => {
      const k = cohensKappa(pairs.map((p) => [p.a.signals.includes(code), p.b.signals.includes(code)] as const));
      return { code, pairs: pairs.length, ...figure(k, shown) };
    }),
  };
}

export function agreementDefinition(minCellSize: number) {
  return {
    cases: 'closed in [from, to) with two independent reviews (adjudications are not reviews)',
    outcome: 'the two reviewers’ outcomes',
    signals: 'each code as present or absent in each review',
    method: KAPPA_METHOD,
    minCellSize,
    suppression: 'every figure is null with fewer than minCellSize pairs',
  };
}

/** Leads and evaluators of the program; anyone else reads it as missing. */
export function assertReportReader(ctx: Ctx, programId: string) {
  const { role, programId: own } = ctx.principal;
  if ((role !== 'lead' && role !== 'evaluator') || own !== programId) throw notFound('program');
}

/** GET /v1/reports/agreement. */
export async function agreementReport(db: Tx, ctx: Ctx, w: Window) {
  assertReportReader(ctx, w.programId);
  const settings = await programSettings(db, w.programId);
  const pairs = await closedReviewPairs(db, w.programId, new Date(`${w.from}T00:00:00Z`), new Date(`${w.to}T00:00:00Z`));
  ctx.audit({
    actorId: ctx.principal.staffId,
    action: 'report.agreement',
    targetType: 'program',
    targetId: w.programId,
    programId: w.programId,
    requestId: ctx.requestId,
  });
  return {
    ...agreementOf(pairs, settings.signalCodebook, settings.minCellSize),
    asOf: ctx.clock.now(),
    definition: agreementDefinition(settings.minCellSize),
  };
}

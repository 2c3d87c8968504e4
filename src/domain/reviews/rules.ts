import { createHmac } from 'node:crypto';
import type { OutcomeStatus } from '../vocabulary.js';

export type Outcome = 'positive_change' | 'disengaged' | 'no_response' | 'declined' | 'referred' | 'unsafe_to_continue' | 'other';

/** The longest review or adjudication note, in characters. */
export const REVIEW_NOTE_MAX = 2000;

/** Statuses in which a case still takes `review`-kind reviews (a disputed one waits for adjudication but may take more). */
export const OPEN_REVIEW_STATUSES: readonly OutcomeStatus[] = ['provisional', 'disputed'];
/** Statuses whose reviewed outcome reports count. */
export const REVIEWED_STATUSES: readonly OutcomeStatus[] = ['confirmed', 'adjudicated'];
/** Closed cases still waiting (reports' `pendingReview`). */
export const PENDING_STATUSES: readonly OutcomeStatus[] = ['provisional', 'disputed'];

/**
 * The second-coder draw: HMAC-SHA256(secret, "second-coder/" + caseId), its first 8 bytes read as
 * an unsigned integer over 2^64 (a uniform in [0, 1)). Anyone holding the secret can re-derive it;
 * nobody can re-roll it for a case.
 */
export function secondCoderDraw(secret: string, caseId: string): number {
  const digest = createHmac('sha256', secret).update(`second-coder/${caseId.toLowerCase()}`).digest();
  return Number(digest.readBigUInt64BE(0)) / 2 ** 64;
}

/** Reviews a case needs at closing: 2 when drawn for second coding (draw < rate), else 1. */
export function reviewsRequiredFor(secret: string, caseId: string, rate: number): 1 | 2 {
  return secondCoderDraw(secret, caseId) < rate ? 2 : 1;
}

export interface ReviewCode {
  outcome: Outcome;
  signals: readonly string[];
}

export type ReviewDecision =
  | { status: 'provisional' }
  | { status: 'confirmed'; outcome: Outcome; signals: string[] }
  | { status: 'disputed' };

/**
 * What the reviews of a closing decide, in the order they came in: fewer than required stays
 * provisional; the first `required` agreeing on the outcome confirm it, with the signals every
 * one of them named (the intersection: a signal counts only when independent coders saw it);
 * any disagreement is a dispute for a lead to adjudicate.
 */
export function decide(reviews: readonly ReviewCode[], required: number): ReviewDecision {
  if (reviews.length < required) return { status: 'provisional' };
  const counted = reviews.slice(0, required);
  const outcome = counted[0]!.outcome;
  if (!counted.every((r) => r.outcome === outcome)) return { status: 'disputed' };
  const signals = [...new Set(counted[0]!.signals)].filter((s) => counted.every((r) => r.signals.includes(s)));
  return { status: 'confirmed', outcome, signals };
}

/** Signals not in the program's codebook (400 when any). */
export function unknownSignals(signals: readonly string[], codebook: readonly string[]): string[] {
  return signals.filter((s) => !codebook.includes(s));
}

/**
 * A case's outcome status as it reads back: the stored one, or for rows closed before review
 * existed (null in the database) `self_reported` when the case is closed with an outcome, null otherwise.
 */
export function outcomeStatusOf(c: { status: string; outcome: string | null; outcomeStatus: OutcomeStatus | null }): OutcomeStatus | null {
  if (c.status !== 'closed' || c.outcome === null) return null;
  return c.outcomeStatus ?? 'self_reported';
}

/**
 * What a caller sees of a case's reviews: everything once their own review is in, and a lead
 * everything once the required number is in (or the case is settled); otherwise only their own.
 */
export function seesAllReviews(opts: { isLead: boolean; ownIn: boolean; reviewsIn: number; required: number; settled: boolean }): boolean {
  if (opts.ownIn) return true;
  return opts.isLead && (opts.settled || opts.reviewsIn >= opts.required);
}

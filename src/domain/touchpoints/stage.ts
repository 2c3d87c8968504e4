import type { STAGES } from '../vocabulary.js';

export type Stage = (typeof STAGES)[number];

export interface TouchpointFact {
  /** Its id, where known: ties in occurredAt are ordered by it (touchpointHistory). */
  id?: string;
  direction: 'outbound' | 'inbound';
  occurredAt: Date;
  holderId: string | null;
  approaches: string[] | null;
  costCents: number | null;
  /** The disclosed outreach account an outbound message was sent from. */
  outreachAccountId?: string | null;
}

export interface StageFacts {
  stage: Stage;
  contactedAt: Date | null;
  contactedBy: string | null;
  respondedAt: Date | null;
  respondedBy: string | null;
  sustainedAt: Date | null;
  sustainedBy: string | null;
  firstOutboundApproaches: string[] | null;
  /** The outreach account of the first outbound message (null: none named, or no contact yet). */
  firstOutreachAccountId: string | null;
  touchpointCount: number;
  inboundCount: number;
  outboundCostCents: number;
  lastTouchpointAt: Date | null;
  lastTouchpointDirection: 'outbound' | 'inbound' | null;
  /** The last touchpoint counted, in (occurredAt, id) order: one logged at the same instant folds only after it. */
  lastTouchpointId: string | null;
  /** Touchpoints since first contact (it included), and the inbound ones among them: the fold's own state. */
  conversationMessages: number;
  conversationInbound: number;
  /** The rules these facts were derived under (`stageRulesKey`): a fold continues them only under the same. */
  stageRules: string;
}

export interface StageRules {
  minMessages: number;
  minInbound: number;
}

/** What a case's facts remember of the rules they were derived under. */
export const stageRulesKey = (rules: StageRules): string => `${rules.minMessages}:${rules.minInbound}`;

/** A case without counting touchpoints. */
export function noStage(rules: StageRules): StageFacts {
  return {
    stage: 'none',
    contactedAt: null,
    contactedBy: null,
    respondedAt: null,
    respondedBy: null,
    sustainedAt: null,
    sustainedBy: null,
    firstOutboundApproaches: null,
    firstOutreachAccountId: null,
    touchpointCount: 0,
    inboundCount: 0,
    outboundCostCents: 0,
    lastTouchpointAt: null,
    lastTouchpointDirection: null,
    lastTouchpointId: null,
    conversationMessages: 0,
    conversationInbound: 0,
    stageRules: stageRulesKey(rules),
  };
}

/**
 * The facts with one more touchpoint that happened at or after every one they count: deriveStage's
 * step, so folding a case's touchpoints in order from noStage is deriveStage. A write whose
 * touchpoint comes after the case's last one folds it into the stored facts instead of reading
 * the history again (touchpoints/service.ts).
 */
export function foldStage(facts: StageFacts, t: TouchpointFact, rules: StageRules): StageFacts {
  const next: StageFacts = {
    ...facts,
    touchpointCount: facts.touchpointCount + 1,
    lastTouchpointAt: t.occurredAt,
    lastTouchpointDirection: t.direction,
    lastTouchpointId: t.id ?? null,
    stageRules: stageRulesKey(rules),
  };
  if (t.direction === 'inbound') next.inboundCount++;
  else next.outboundCostCents += t.costCents ?? 0;
  if (!next.contactedAt) {
    // An inbound message before first contact is not part of the conversation.
    if (t.direction !== 'outbound') return next;
    next.contactedAt = t.occurredAt;
    next.contactedBy = t.holderId;
    next.firstOutboundApproaches = t.approaches ?? [];
    next.firstOutreachAccountId = t.outreachAccountId ?? null;
    next.stage = 'contacted';
  }
  next.conversationMessages++;
  if (t.direction === 'inbound') {
    next.conversationInbound++;
    if (!next.respondedAt) {
      next.respondedAt = t.occurredAt;
      next.respondedBy = t.holderId;
      next.stage = 'responded';
    }
  }
  if (
    !next.sustainedAt &&
    next.respondedAt &&
    next.conversationMessages >= rules.minMessages &&
    next.conversationInbound >= rules.minInbound
  ) {
    next.sustainedAt = t.occurredAt;
    next.sustainedBy = t.holderId;
    next.stage = 'sustained';
  }
  return next;
}

/** What a case row keeps of its facts' provenance, for foldsAfter. */
export interface StoredStage {
  touchpointCount: number;
  lastTouchpointAt: Date | null;
  lastTouchpointId: string | null;
  stageRules: string | null;
  /** The case's version when stageUpdateSql last wrote the facts, and its version now. */
  stageVersion: number | null;
  version: number;
}

/**
 * The order touchpoints are counted in, as touchpointHistory reads them: occurredAt to the
 * millisecond (what a Date holds), then id. Ids compare as strings: lowercase uuids order as
 * PostgreSQL orders them.
 */
export function touchpointOrder(a: { occurredAt: Date; id: string }, b: { occurredAt: Date; id: string }): number {
  return a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whether a new touchpoint can be folded into a case's stored facts (rather than the facts derived
 * again from the history): the case counts none yet, or the touchpoint sorts after the last one
 * counted (touchpointOrder) and nothing but the stage writes has updated the case since they were
 * written; with `rules`, also that the facts were derived under them. (A write asks first without
 * the rules, to know whether to read the history with the program's settings, then with them.)
 */
export function foldsAfter(c: StoredStage, t: { id: string; occurredAt: Date }, rules?: StageRules): boolean {
  if (c.touchpointCount === 0) return true;
  if (c.stageRules === null || c.stageVersion !== c.version || c.lastTouchpointAt === null) return false;
  if (rules && c.stageRules !== stageRulesKey(rules)) return false;
  // Without the last one's id, a touchpoint at the same instant cannot be placed after it.
  if (c.lastTouchpointId === null) return t.occurredAt > c.lastTouchpointAt;
  return touchpointOrder(t, { occurredAt: c.lastTouchpointAt, id: c.lastTouchpointId }) > 0;
}

/**
 * Derives the engagement stage from every touchpoint, in the order they happened (not the order
 * they were logged): contacted at the first outbound, responded at the first inbound after it,
 * sustained once the conversation since first contact has `minMessages` touchpoints of which
 * `minInbound` are inbound. Each stage is credited to whoever held the case at that touchpoint.
 */
export function deriveStage(touchpoints: TouchpointFact[], rules: StageRules): StageFacts {
  const sorted = [...touchpoints].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  return sorted.reduce((facts, t) => foldStage(facts, t, rules), noStage(rules));
}

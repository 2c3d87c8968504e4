import type { STAGES } from '../vocabulary.js';

export type Stage = (typeof STAGES)[number];

export interface TouchpointFact {
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
}

/**
 * Derives the engagement stage from every touchpoint, in the order they happened (not the order
 * they were logged): contacted at the first outbound, responded at the first inbound after it,
 * sustained once the conversation since first contact has `minMessages` touchpoints of which
 * `minInbound` are inbound. Each stage is credited to whoever held the case at that touchpoint.
 */
export function deriveStage(touchpoints: TouchpointFact[], rules: { minMessages: number; minInbound: number }): StageFacts {
  const sorted = [...touchpoints].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  const facts: StageFacts = {
    stage: 'none',
    contactedAt: null,
    contactedBy: null,
    respondedAt: null,
    respondedBy: null,
    sustainedAt: null,
    sustainedBy: null,
    firstOutboundApproaches: null,
    firstOutreachAccountId: null,
    touchpointCount: sorted.length,
    inboundCount: 0,
    outboundCostCents: 0,
    lastTouchpointAt: sorted.at(-1)?.occurredAt ?? null,
    lastTouchpointDirection: sorted.at(-1)?.direction ?? null,
  };
  let messages = 0;
  let inbound = 0;
  for (const t of sorted) {
    if (t.direction === 'inbound') facts.inboundCount++;
    else facts.outboundCostCents += t.costCents ?? 0;
    if (!facts.contactedAt) {
      if (t.direction !== 'outbound') continue;
      facts.contactedAt = t.occurredAt;
      facts.contactedBy = t.holderId;
      facts.firstOutboundApproaches = t.approaches ?? [];
      facts.firstOutreachAccountId = t.outreachAccountId ?? null;
      facts.stage = 'contacted';
    }
    messages++;
    if (t.direction === 'inbound') {
      inbound++;
      if (!facts.respondedAt) {
        facts.respondedAt = t.occurredAt;
        facts.respondedBy = t.holderId;
        facts.stage = 'responded';
      }
    }
    if (!facts.sustainedAt && facts.respondedAt && messages >= rules.minMessages && inbound >= rules.minInbound) {
      facts.sustainedAt = t.occurredAt;
      facts.sustainedBy = t.holderId;
      facts.stage = 'sustained';
    }
  }
  return facts;
}

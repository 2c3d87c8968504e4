import type { cases } from '../../db/schema/index.js';
import { PENDING_STATUSES, REVIEWED_STATUSES } from '../reviews/rules.js';

export const DIMENSIONS = ['intervener', 'ideology', 'platform', 'riskLevel', 'approach', 'cohort', 'outreachAccount'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
/**
 * Stored beside the report's groupings: `stratum` (ideology|riskLevel) and `approachStratum`
 * (approach|ideology|riskLevel), the strata of the adjusted approach comparison.
 */
export type StoredDimension = Dimension | 'total' | 'stratum' | 'approachStratum';

/** The stratum of the adjusted approach comparison: ideology × riskLevel. */
export const comparisonStratum = (c: Pick<CaseFacts, 'ideology' | 'riskLevel'>) => `${c.ideology}|${c.riskLevel}`;

export const COUNT_FIELDS = ['flagged', 'accepted', 'contacted', 'responded', 'sustained', 'positive', 'referred'] as const;
export type CountField = (typeof COUNT_FIELDS)[number];
/**
 * `positive` is the self-reported figure; `reviewedPositive` (confirmed or adjudicated as
 * positive_change) and `pendingReview` (closed, still waiting) are what a report shows under review.
 */
export type Counts = Record<CountField, number> & { costCents: number; reviewedPositive: number; pendingReview: number };

/**
 * [dimension, group, flag day, flagged, accepted, contacted, responded, sustained, positive, costCents,
 * reviewedPositive, pendingReview, referred]: later counts last, so contributions stored before they existed still read (as 0).
 */
export type Cell = [StoredDimension, string, string, number, number, number, number, number, number, number, number, number, number];
/** [event day, contacted, responded, sustained] */
export type EventCell = [string, number, number, number];
/** [dimension, group, flag day, seconds from first contact to first response] */
export type ResponseCell = [StoredDimension, string, string, number];

export interface Contribution {
  cells: Cell[];
  events: EventCell[];
  responses: ResponseCell[];
}

export type CaseFacts = Pick<
  typeof cases.$inferSelect,
  | 'flaggedAt'
  | 'acceptedAt'
  | 'contactedAt'
  | 'contactedBy'
  | 'respondedAt'
  | 'respondedBy'
  | 'sustainedAt'
  | 'sustainedBy'
  | 'outcome'
  | 'assigneeId'
  | 'ideology'
  | 'platform'
  | 'riskLevel'
  | 'outboundCostCents'
  | 'firstOutboundApproaches'
  | 'status'
  | 'outcomeStatus'
  | 'reviewedOutcome'
  | 'erasedAt'
  | 'referredAt'
  | 'firstOutreachAccountId'
>;

export const dayOf = (d: Date) => d.toISOString().slice(0, 10);
export const responseSeconds = (c: CaseFacts) =>
  c.contactedAt && c.respondedAt ? Math.floor((c.respondedAt.getTime() - c.contactedAt.getTime()) / 1000) : null;

/**
 * What one case adds to the rollups. Every grouping counts the whole funnel for the case, except
 * `intervener`: each stage goes to whoever held the case when it was reached (flagged and
 * accepted to the first contact's holder, or the holder now; positive, reviewed or pending, to the holder at close).
 */
export function contributions(c: CaseFacts): Contribution {
  const day = dayOf(c.flaggedAt);
  const whole: Counts = {
    flagged: 1,
    accepted: c.acceptedAt ? 1 : 0,
    contacted: c.contactedAt ? 1 : 0,
    responded: c.respondedAt ? 1 : 0,
    sustained: c.sustainedAt ? 1 : 0,
    positive: c.outcome === 'positive_change' ? 1 : 0,
    costCents: c.outboundCostCents,
    reviewedPositive: c.outcomeStatus && REVIEWED_STATUSES.includes(c.outcomeStatus) && c.reviewedOutcome === 'positive_change' ? 1 : 0,
    // An erased case can no longer be reviewed: it leaves the backlog instead of waiting forever.
    pendingReview: c.status === 'closed' && !c.erasedAt && c.outcomeStatus && PENDING_STATUSES.includes(c.outcomeStatus) ? 1 : 0,
    referred: c.referredAt ? 1 : 0,
  };
  const seconds = responseSeconds(c);
  const cells: Cell[] = [];
  const responses: ResponseCell[] = [];
  const add = (dim: StoredDimension, group: string, k: Counts, withResponse: boolean) => {
    cells.push([
      dim,
      group,
      day,
      k.flagged,
      k.accepted,
      k.contacted,
      k.responded,
      k.sustained,
      k.positive,
      k.costCents,
      k.reviewedPositive,
      k.pendingReview,
      k.referred,
    ]);
    if (withResponse && seconds !== null) responses.push([dim, group, day, seconds]);
  };
  add('total', 'total', whole, true);
  add('ideology', c.ideology, whole, true);
  add('platform', c.platform, whole, true);
  add('riskLevel', c.riskLevel, whole, true);
  add('cohort', day.slice(0, 7), whole, true);
  for (const a of new Set(c.firstOutboundApproaches ?? [])) add('approach', a, whole, true);
  if (c.firstOutreachAccountId) add('outreachAccount', c.firstOutreachAccountId, whole, true);
  // Only contacted cases enter the adjusted comparison (its rates are over contacted).
  if (whole.contacted) {
    const stratum = comparisonStratum(c);
    add('stratum', stratum, whole, false);
    for (const a of new Set(c.firstOutboundApproaches ?? [])) add('approachStratum', `${a}|${stratum}`, whole, false);
  }

  const credit = new Map<string, Counts>();
  const to = (staffId: string | null, field: CountField | 'costCents' | 'reviewedPositive' | 'pendingReview', amount: number) => {
    if (!staffId || amount === 0) return;
    const k = credit.get(staffId) ?? {
      flagged: 0,
      accepted: 0,
      contacted: 0,
      responded: 0,
      sustained: 0,
      positive: 0,
      costCents: 0,
      reviewedPositive: 0,
      pendingReview: 0,
      referred: 0,
    };
    k[field] += amount;
    credit.set(staffId, k);
  };
  const firstHolder = c.contactedBy ?? c.assigneeId;
  to(firstHolder, 'flagged', whole.flagged);
  to(firstHolder, 'accepted', whole.accepted);
  to(c.contactedBy, 'contacted', whole.contacted);
  to(c.contactedBy, 'costCents', whole.costCents);
  to(c.respondedBy, 'responded', whole.responded);
  to(c.sustainedBy, 'sustained', whole.sustained);
  to(c.assigneeId, 'positive', whole.positive);
  to(c.assigneeId, 'reviewedPositive', whole.reviewedPositive);
  to(c.assigneeId, 'pendingReview', whole.pendingReview);
  to(c.assigneeId, 'referred', whole.referred);
  for (const [staffId, k] of credit) add('intervener', staffId, k, false);
  if (seconds !== null && c.respondedBy) responses.push(['intervener', c.respondedBy, day, seconds]);

  const events = new Map<string, EventCell>();
  const event = (at: Date | null, index: 1 | 2 | 3) => {
    if (!at) return;
    const d = dayOf(at);
    const e = events.get(d) ?? [d, 0, 0, 0];
    e[index]++;
    events.set(d, e);
  };
  event(c.contactedAt, 1);
  event(c.respondedAt, 2);
  event(c.sustainedAt, 3);
  return { cells, events: [...events.values()], responses };
}

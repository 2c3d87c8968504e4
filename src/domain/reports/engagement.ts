import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { hotQuery } from '../../db/prepared.js';
import type { ProgramSettings } from '../programs/settings.js';
import { PENDING_STATUSES, REVIEWED_STATUSES } from '../reviews/rules.js';
import { COUNT_FIELDS, type CountField, type Counts, type Dimension } from './contributions.js';
import { holm, mantelHaenszelRiskDiff, type Stratum } from './inference.js';
import { type Rate, rateDiff, twoProportionPValue, wilson } from './stats.js';

export interface Window {
  programId: string;
  /** Inclusive UTC day, YYYY-MM-DD. */
  from: string;
  /** Exclusive UTC day, YYYY-MM-DD. */
  to: string;
}

/** Contacted and sustained cases of one stratum (ideology|riskLevel). */
export interface StratumCounts {
  contacted: number;
  sustained: number;
}

/** groupBy=approach: per approach and stratum, and per stratum over all approaches (the adjusted comparison). */
export interface Strata {
  byApproach: Map<string, Map<string, StratumCounts>>;
  totals: Map<string, StratumCounts>;
}

/** Summed funnel counts per group (plus `total`), and median response seconds, from either source. */
export interface Aggregates {
  groups: Map<string, Counts>;
  total: Counts;
  medianSeconds: Map<string, number>;
  strata?: Strata;
}

/** Strata from rows of (approach or null, stratum, contacted, sustained); empty cells dropped so both sources agree. */
function toStrata(rows: { approach: string | null; stratum: string; contacted: number; sustained: number }[]): Strata {
  const strata: Strata = { byApproach: new Map(), totals: new Map() };
  for (const r of rows) {
    const k = { contacted: Number(r.contacted), sustained: Number(r.sustained) };
    if (k.contacted === 0 && k.sustained === 0) continue;
    if (r.approach === null) strata.totals.set(r.stratum, k);
    else {
      const m = strata.byApproach.get(r.approach) ?? new Map<string, StratumCounts>();
      m.set(r.stratum, k);
      strata.byApproach.set(r.approach, m);
    }
  }
  return strata;
}

const ZERO: Counts = {
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

interface AggRow extends Record<string, unknown> {
  dimension: string;
  group_key: string;
  flagged: number;
  accepted: number;
  contacted: number;
  responded: number;
  sustained: number;
  positive: number;
  cost_cents: number;
  reviewed_positive: number;
  pending_review: number;
  referred: number;
}

function toAggregates(
  rows: AggRow[],
  medians: { dimension: string; group_key: string; median: number | null }[],
  dim: Dimension | null,
): Aggregates {
  const groups = new Map<string, Counts>();
  let total = { ...ZERO };
  for (const r of rows) {
    const counts: Counts = {
      flagged: Number(r.flagged),
      accepted: Number(r.accepted),
      contacted: Number(r.contacted),
      responded: Number(r.responded),
      sustained: Number(r.sustained),
      positive: Number(r.positive),
      costCents: Number(r.cost_cents),
      reviewedPositive: Number(r.reviewed_positive),
      pendingReview: Number(r.pending_review),
      referred: Number(r.referred ?? 0),
    };
    if (r.dimension === 'total') total = counts;
    else if (
      r.dimension === dim &&
      counts.flagged +
        counts.contacted +
        counts.responded +
        counts.sustained +
        counts.positive +
        counts.reviewedPositive +
        counts.pendingReview +
        counts.referred >
        0
    ) {
      groups.set(r.group_key, counts);
    }
  }
  const medianSeconds = new Map<string, number>();
  for (const m of medians) {
    if (m.median === null) continue;
    medianSeconds.set(m.dimension === 'total' ? 'total' : m.group_key, Number(m.median));
  }
  return { groups, total, medianSeconds };
}

/** The fast path: sums of the rollup rows of the window's days. */
export async function fromRollups(db: Db, w: Window, dim: Dimension | null): Promise<Aggregates> {
  const dims = dim ? ['total', dim] : ['total'];
  const list = (ds: string[]) =>
    sql.join(
      ds.map((d) => sql`${d}`),
      sql`, `,
    );
  // groupBy=approach also sums the strata of the adjusted comparison, in the same scan.
  const summed = dim === 'approach' ? [...dims, 'stratum', 'approachStratum'] : dims;
  // The sums and the medians are two independent autocommit reads (the pool, not one transaction): run
  // at once on two connections, the report waits for the slower one instead of both in turn.
  const [rows, medians] = await Promise.all([
    db.execute<AggRow>(sql`
    select dimension, group_key, sum(flagged)::int as flagged, sum(accepted)::int as accepted, sum(contacted)::int as contacted,
           sum(responded)::int as responded, sum(sustained)::int as sustained, sum(positive)::int as positive,
           sum(cost_cents)::bigint as cost_cents, sum(reviewed_positive)::int as reviewed_positive,
           sum(pending_review)::int as pending_review, sum(referred)::int as referred
      from engagement_rollup
     where program_id = ${w.programId} and dimension in (${list(summed)}) and day >= ${w.from}::date and day < ${w.to}::date
     group by dimension, group_key`),
    db.execute<{ dimension: string; group_key: string; median: number | null }>(sql`
    select dimension, group_key, percentile_cont(0.5) within group (order by seconds) as median
      from engagement_response
     where program_id = ${w.programId} and dimension in (${list(dims)}) and day >= ${w.from}::date and day < ${w.to}::date
     group by dimension, group_key`),
  ]);
  const agg = toAggregates(rows.rows, medians.rows, dim);
  if (dim === 'approach') {
    // approachStratum keys are approach|ideology|riskLevel: the approach is the part before the first bar.
    agg.strata = toStrata(
      rows.rows
        .filter((r) => r.dimension === 'stratum' || r.dimension === 'approachStratum')
        .map((r) => {
          const bar = r.group_key.indexOf('|');
          const byApproach = r.dimension === 'approachStratum';
          return {
            approach: byApproach ? r.group_key.slice(0, bar) : null,
            stratum: byApproach ? r.group_key.slice(bar + 1) : r.group_key,
            contacted: r.contacted,
            sustained: r.sustained,
          };
        }),
    );
  }
  return agg;
}

const GROUP_EXPR: Record<Exclude<Dimension, 'intervener' | 'approach' | 'outreachAccount'>, string> = {
  ideology: 'c.ideology::text',
  platform: 'c.platform::text',
  riskLevel: 'c.risk_level::text',
  cohort: `to_char(c.flagged_at at time zone 'UTC', 'YYYY-MM')`,
};

// $4: the statuses whose reviewed outcome counts; $5: the statuses still waiting for review.
const REVIEWED_POSITIVE = `coalesce(c.outcome_status::text = any($4::text[]) and c.reviewed_outcome = 'positive_change', false)::int`;
const PENDING_REVIEW = `coalesce(c.status = 'closed' and c.erased_at is null and c.outcome_status::text = any($5::text[]), false)::int`;

const FACTS = `(c.accepted_at is not null)::int as accepted, (c.contacted_at is not null)::int as contacted,
  (c.responded_at is not null)::int as responded, (c.sustained_at is not null)::int as sustained,
  (c.outcome is not distinct from 'positive_change')::int as positive, c.outbound_cost_cents as cost,
  case when c.responded_at is not null and c.contacted_at is not null
       then floor(extract(epoch from c.responded_at - c.contacted_at))::int end as secs,
  ${REVIEWED_POSITIVE} as reviewed_positive, ${PENDING_REVIEW} as pending_review, (c.referred_at is not null)::int as referred`;

function rawFacts(dim: Dimension | 'total'): string {
  if (dim === 'total') return `select 'total'::text as g, 1 as flagged, ${FACTS} from cohort c`;
  if (dim === 'approach') {
    return `select a.g, 1 as flagged, ${FACTS} from cohort c
      cross join lateral (select distinct unnest(c.first_outbound_approaches) as g) a`;
  }
  if (dim === 'outreachAccount') {
    return `select c.first_outreach_account_id::text as g, 1 as flagged, ${FACTS} from cohort c where c.first_outreach_account_id is not null`;
  }
  if (dim === 'intervener') {
    return `
      select coalesce(c.contacted_by, c.assignee_id)::text as g, 1 as flagged, (c.accepted_at is not null)::int as accepted,
             0 as contacted, 0 as responded, 0 as sustained, 0 as positive, 0 as cost, null::int as secs,
             0 as reviewed_positive, 0 as pending_review, 0 as referred
        from cohort c where coalesce(c.contacted_by, c.assignee_id) is not null
      union all select c.contacted_by::text, 0, 0, 1, 0, 0, 0, c.outbound_cost_cents, null, 0, 0, 0 from cohort c
        where c.contacted_at is not null and c.contacted_by is not null
      union all select c.responded_by::text, 0, 0, 0, 1, 0, 0, 0,
             case when c.contacted_at is not null then floor(extract(epoch from c.responded_at - c.contacted_at))::int end, 0, 0, 0
        from cohort c where c.responded_at is not null and c.responded_by is not null
      union all select c.sustained_by::text, 0, 0, 0, 0, 1, 0, 0, null, 0, 0, 0 from cohort c
        where c.sustained_at is not null and c.sustained_by is not null
      union all select c.assignee_id::text, 0, 0, 0, 0, 0, 1, 0, null, 0, 0, 0 from cohort c
        where c.outcome = 'positive_change' and c.assignee_id is not null
      union all select c.assignee_id::text, 0, 0, 0, 0, 0, 0, 0, null, ${REVIEWED_POSITIVE}, ${PENDING_REVIEW}, 0 from cohort c
        where c.assignee_id is not null and (${REVIEWED_POSITIVE} + ${PENDING_REVIEW}) > 0
      union all select c.assignee_id::text, 0, 0, 0, 0, 0, 0, 0, null, 0, 0, 1 from cohort c
        where c.assignee_id is not null and c.referred_at is not null`;
  }
  return `select ${GROUP_EXPR[dim]} as g, 1 as flagged, ${FACTS} from cohort c`;
}

/** The slow path, kept for verification and tests: the same figures straight from the cases. */
export async function fromRaw(db: Db, w: Window, dim: Dimension | null): Promise<Aggregates> {
  const parts = [`select 'total' as dimension, * from (${rawFacts('total')}) t`];
  if (dim) parts.push(`select '${dim}' as dimension, * from (${rawFacts(dim)}) d`);
  const rows = await hotQuery<AggRow & { median: number | null }>(
    db,
    null,
    `with cohort as (
       select * from cases where program_id = $1 and flagged_at >= $2::date and flagged_at < $3::date
     ), facts as (${parts.join(' union all ')})
     select dimension, g as group_key, sum(flagged)::int as flagged, sum(accepted)::int as accepted,
            sum(contacted)::int as contacted, sum(responded)::int as responded, sum(sustained)::int as sustained,
            sum(positive)::int as positive, sum(cost)::bigint as cost_cents,
            sum(reviewed_positive)::int as reviewed_positive, sum(pending_review)::int as pending_review,
            sum(referred)::int as referred,
            percentile_cont(0.5) within group (order by secs) as median
       from facts group by dimension, g`,
    [w.programId, w.from, w.to, REVIEWED_STATUSES, PENDING_STATUSES],
  );
  const agg = toAggregates(rows, rows, dim);
  if (dim === 'approach') {
    const strata = await hotQuery<{ approach: string | null; stratum: string; contacted: number; sustained: number }>(
      db,
      null,
      `with contacted as (
         select c.ideology::text || '|' || c.risk_level::text as stratum, (c.sustained_at is not null)::int as sustained,
                c.first_outbound_approaches as approaches
           from cases c
          where c.program_id = $1 and c.flagged_at >= $2::date and c.flagged_at < $3::date and c.contacted_at is not null
       )
       select null as approach, stratum, count(*)::int as contacted, sum(sustained)::int as sustained from contacted group by stratum
       union all
       select a.approach, stratum, count(*)::int, sum(sustained)::int
         from contacted cross join lateral (select distinct unnest(approaches) as approach) a group by a.approach, stratum`,
      [w.programId, w.from, w.to],
    );
    agg.strata = toStrata(strata);
  }
  return agg;
}

export interface ReportRow {
  group: string;
  /** groupBy=intervener: the staff member's name (null on the total row). */
  name?: string | null;
  flagged: number | null;
  accepted: number | null;
  contacted: number | null;
  responded: number | null;
  sustained: number | null;
  positive: number | null;
  /** Cases with a referral to another service. */
  referred: number | null;
  /** Under outcome review only: closed cases whose outcome still waits for review. */
  pendingReview?: number | null;
  responseRate: Rate | null;
  sustainedRate: Rate | null;
  positiveRate: Rate | null;
  medianHoursToFirstResponse: number | null;
  costPerSustainedCents: number | null;
  suppressed: boolean;
  vsRest?: {
    responseRateDiff: number | null;
    sustainedRateDiff: number | null;
    pValue: number | null;
    responsePValue: number | null;
    /** Holm-adjusted across the report's approaches. */
    pValueAdjusted: number | null;
    /** Mantel-Haenszel over ideology × riskLevel strata, Sato variance interval. */
    adjusted: AdjustedDiff | null;
  } | null;
}

export interface AdjustedDiff {
  sustainedRateDiff: number;
  ci95: [number, number];
  /** Strata holding cases of both the approach and the rest. */
  strata: number;
}

/** The approach against the rest of its strata (MH risk difference of the sustained rate); null without an informative stratum. */
function adjustedVsRest(strata: Strata | undefined, approach: string): AdjustedDiff | null {
  if (!strata) return null;
  const mine = strata.byApproach.get(approach) ?? new Map<string, StratumCounts>();
  const cells: Stratum[] = [...strata.totals.entries()].map(([key, t]) => {
    const a = mine.get(key) ?? { contacted: 0, sustained: 0 };
    return { x1: a.sustained, n1: a.contacted, x2: t.sustained - a.sustained, n2: t.contacted - a.contacted };
  });
  const mh = mantelHaenszelRiskDiff(cells);
  return mh && { sustainedRateDiff: mh.value, ci95: mh.ci95, strata: mh.strata };
}

/**
 * Which cells to hide: any count in (0, minCellSize), then, per column, a second cell wherever a
 * single hidden cell could be recovered by subtracting the shown ones from the total.
 */
export function suppressionMask<F extends string = CountField>(
  rows: Record<F, number>[],
  total: Record<F, number>,
  min: number,
  fields: readonly F[] = COUNT_FIELDS as unknown as readonly F[],
): { rows: Set<F>[]; total: Set<F> } {
  const small = (v: number) => v > 0 && v < min;
  const masks = rows.map((r) => new Set(fields.filter((f) => small(r[f]))));
  const totalMask = new Set(fields.filter((f) => small(total[f])));
  for (const f of fields) {
    const hidden = masks.filter((m) => m.has(f)).length;
    if (hidden !== 1 || totalMask.has(f)) continue;
    let pick = -1;
    rows.forEach((r, i) => {
      if (!masks[i]!.has(f) && r[f] > 0 && (pick < 0 || r[f] < rows[pick]![f])) pick = i;
    });
    if (pick >= 0) masks[pick]!.add(f);
    else totalMask.add(f);
  }
  return { rows: masks, total: totalMask };
}

type ShownField = CountField | 'pendingReview';
/** Under review, the report's `positive` is the reviewed count and `pendingReview` is shown (and suppressed) like any count. */
const REVIEW_FIELDS: readonly ShownField[] = [...COUNT_FIELDS, 'pendingReview'];

function shapeRow(group: string, k: Counts, hidden: Set<ShownField>, medianSeconds: number | undefined, review: boolean): ReportRow {
  const show = (f: ShownField) => (hidden.has(f) ? null : k[f]);
  const rate = (f: CountField) => (hidden.has(f) || hidden.has('contacted') ? null : wilson(k[f], k.contacted));
  return {
    group,
    flagged: show('flagged'),
    accepted: show('accepted'),
    contacted: show('contacted'),
    responded: show('responded'),
    sustained: show('sustained'),
    positive: show('positive'),
    referred: show('referred'),
    ...(review ? { pendingReview: show('pendingReview') } : {}),
    responseRate: rate('responded'),
    sustainedRate: rate('sustained'),
    positiveRate: rate('positive'),
    medianHoursToFirstResponse:
      hidden.has('responded') || medianSeconds === undefined ? null : Math.round((medianSeconds / 3600) * 100) / 100,
    costPerSustainedCents: hidden.has('sustained') || k.sustained === 0 ? null : Math.round(k.costCents / k.sustained),
    suppressed: hidden.size > 0,
  };
}

export function definitionOf(settings: ProgramSettings, dim: Dimension | null) {
  return {
    cohort: 'cases flagged in [from, to), UTC days',
    flagged: 'every case flagged in the window (including erased cases, which remain as anonymous counts)',
    accepted: 'accepted at triage',
    contacted: 'a first outbound touchpoint was logged',
    responded: 'an inbound touchpoint after the first outbound one',
    sustained: `at least ${settings.sustainedMinMessages} touchpoints since first contact, of which at least ${settings.sustainedMinInbound} inbound`,
    ...(settings.outcomeReview === 'required'
      ? {
          positive:
            'closed, and its outcome confirmed or adjudicated as positive_change by independent review (self-reported outcomes do not count)',
          positiveSource: 'reviewed',
          pendingReview: 'closed cases whose outcome is provisional or disputed (erased cases leave the backlog)',
        }
      : { positive: 'closed with outcome positive_change', positiveSource: 'self_reported' }),
    referred: 'cases with at least one referral to another service (whatever its consent or status)',
    rates: 'over contacted; 95% Wilson score interval',
    medianHoursToFirstResponse: 'median time from first outbound to first inbound, over responded cases',
    costPerSustainedCents: 'outbound costCents of the group divided by its sustained cases',
    sustainedMinMessages: settings.sustainedMinMessages,
    sustainedMinInbound: settings.sustainedMinInbound,
    minCellSize: settings.minCellSize,
    suppression: `counts between 1 and ${settings.minCellSize - 1} are hidden (null), with the rates built on them, and a second cell where one hidden cell could be recovered from the total`,
    ...(dim === 'intervener'
      ? {
          intervener:
            'each stage is credited to the intervener holding the case when it was reached (flagged and accepted: the holder at first contact, or now; positive: the holder at close)',
        }
      : {}),
    ...(dim === 'outreachAccount'
      ? {
          outreachAccount:
            'the disclosed outreach account of the case’s first outbound touchpoint (cases without one are left out of the groups)',
        }
      : {}),
    ...(dim === 'approach'
      ? {
          approach: "the approaches of the case's first outbound touchpoint; a case counts once in each",
          vsRest:
            'difference against all other contacted cases; pValue: two-sided two-proportion z-test of sustainedRate (responsePValue: of responseRate); pValueAdjusted: pValue Holm-adjusted (Holm 1979) across the approaches of the report',
          adjusted:
            'sustainedRateDiff against the rest of the same strata: Mantel-Haenszel risk difference over ideology × riskLevel strata of contacted cases, 95% interval from the Sato (1989) variance; strata: the strata holding both the approach and the rest',
        }
      : {}),
    stageRulesNote: 'stages are derived when touchpoints are logged, with the settings in force then',
  };
}

/** Turns aggregates into the report rows: rates, intervals, medians, suppression, total last. */
export function buildRows(agg: Aggregates, settings: ProgramSettings, dim: Dimension | null): ReportRow[] {
  const review = settings.outcomeReview === 'required';
  const shown = (k: Counts): Counts => (review ? { ...k, positive: k.reviewedPositive } : k);
  const keys = [...agg.groups.keys()].sort();
  const counts = keys.map((k) => shown(agg.groups.get(k)!));
  const totalCounts = shown(agg.total);
  const mask = suppressionMask<ShownField>(counts, totalCounts, settings.minCellSize, review ? REVIEW_FIELDS : COUNT_FIELDS);
  const rows = keys.map((k, i) => shapeRow(k, counts[i]!, mask.rows[i]!, agg.medianSeconds.get(k), review));
  if (dim === 'approach') {
    rows.forEach((row, i) => {
      const a = counts[i]!;
      const t = agg.total;
      const restN = t.contacted - a.contacted;
      row.vsRest = row.suppressed
        ? null
        : {
            responseRateDiff: rateDiff(a.responded, a.contacted, t.responded - a.responded, restN),
            sustainedRateDiff: rateDiff(a.sustained, a.contacted, t.sustained - a.sustained, restN),
            pValue: twoProportionPValue(a.sustained, a.contacted, t.sustained - a.sustained, restN),
            responsePValue: twoProportionPValue(a.responded, a.contacted, t.responded - a.responded, restN),
            pValueAdjusted: null,
            adjusted: adjustedVsRest(agg.strata, keys[i]!),
          };
    });
    // Holm across every approach the report compares (seven tests at once are not seven single tests).
    const adjusted = holm(rows.map((r) => r.vsRest?.pValue ?? null));
    rows.forEach((r, i) => {
      if (r.vsRest) r.vsRest.pValueAdjusted = adjusted[i] ?? null;
    });
  }
  const total = shapeRow('total', totalCounts, mask.total, agg.medianSeconds.get('total'), review);
  if (dim === 'approach') total.vsRest = null;
  return [...rows, total];
}

export interface TrendBucket {
  start: string;
  contacted: number | null;
  responded: number | null;
  sustained: number | null;
  suppressed: boolean;
}

/** Contacted / responded / sustained events per day or ISO week, zero-filled, small counts hidden. */
export async function trend(db: Db, w: Window, interval: 'day' | 'week', minCellSize: number): Promise<TrendBucket[]> {
  const rows = await hotQuery<{ start: string; contacted: number; responded: number; sustained: number }>(
    db,
    null,
    `with buckets as (
       select generate_series(date_trunc($4, $2::date), $3::date - 1, ('1 ' || $4)::interval)::date as start
     )
     select to_char(b.start, 'YYYY-MM-DD') as start,
            coalesce(sum(e.contacted), 0)::int as contacted, coalesce(sum(e.responded), 0)::int as responded,
            coalesce(sum(e.sustained), 0)::int as sustained
       from buckets b
       left join engagement_events e
         on e.program_id = $1 and e.day >= greatest(b.start, $2::date) and e.day < least(b.start + ('1 ' || $4)::interval, $3::date)
      group by b.start order by b.start`,
    [w.programId, w.from, w.to, interval],
  );
  return rows.map((r) => {
    const hide = (v: number) => v > 0 && v < minCellSize;
    const suppressed = hide(r.contacted) || hide(r.responded) || hide(r.sustained);
    return {
      start: r.start,
      contacted: hide(r.contacted) ? null : r.contacted,
      responded: hide(r.responded) ? null : r.responded,
      sustained: hide(r.sustained) ? null : r.sustained,
      suppressed,
    };
  });
}

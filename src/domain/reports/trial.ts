import type { Db } from '../../db/client.js';
import { hotQuery } from '../../db/prepared.js';
import { suppressionMask } from './engagement.js';
import { type Diff, holm, minimumDetectableDiff, newcombeDiff } from './inference.js';
import type { Approach } from '../vocabulary.js';
import { type Rate, twoProportionPValue, wilson } from './stats.js';

/** Per arm: intention to treat over every allocated case, and the compliers (first outbound used the arm). */
export interface ArmCounts {
  arm: Approach;
  allocated: number;
  contacted: number;
  responded: number;
  sustained: number;
  complied: number;
  compliedResponded: number;
  compliedSustained: number;
}

const COUNTS_SQL = `
  select trial_arm as arm, count(*)::int as allocated,
         count(*) filter (where contacted_at is not null)::int as contacted,
         count(*) filter (where responded_at is not null)::int as responded,
         count(*) filter (where sustained_at is not null)::int as sustained,
         count(*) filter (where trial_arm = any(first_outbound_approaches))::int as complied,
         count(*) filter (where trial_arm = any(first_outbound_approaches) and responded_at is not null)::int as complied_responded,
         count(*) filter (where trial_arm = any(first_outbound_approaches) and sustained_at is not null)::int as complied_sustained
    from cases where trial_id = $1 group by trial_arm`;

/** Every arm of the trial, in the trial's order, with zeros for an arm nobody was allocated yet. */
export async function armCounts(db: Db, trialId: string, arms: readonly Approach[]): Promise<ArmCounts[]> {
  const rows = await hotQuery<Record<string, unknown>>(db, 'trial_arm_counts', COUNTS_SQL, [trialId]);
  const by = new Map(rows.map((r) => [String(r.arm), r]));
  return arms.map((arm) => {
    const r = by.get(arm);
    const n = (k: string) => Number(r?.[k] ?? 0);
    return {
      arm,
      allocated: n('allocated'),
      contacted: n('contacted'),
      responded: n('responded'),
      sustained: n('sustained'),
      complied: n('complied'),
      compliedResponded: n('complied_responded'),
      compliedSustained: n('complied_sustained'),
    };
  });
}

const FIELDS = ['allocated', 'contacted', 'responded', 'sustained', 'complied'] as const;
type Field = (typeof FIELDS)[number];
type Cells = Record<Field, number>;

export interface ArmRow {
  arm: Approach;
  allocated: number | null;
  contacted: number | null;
  responded: number | null;
  sustained: number | null;
  responseRate: Rate | null;
  sustainedRate: Rate | null;
  compliance: Rate | null;
  suppressed: boolean;
}

export interface Comparison {
  arm: Approach;
  vs: Approach;
  sustainedRateDiff: Diff | null;
  responseRateDiff: Diff | null;
  pValue: number | null;
  pValueAdjusted: number | null;
}

export interface Analysis {
  arms: ArmRow[];
  comparisons: Comparison[];
  minimumDetectableDiff: number | null;
}

/**
 * One analysis (intention to treat, or per protocol): rates over each arm's cases with Wilson
 * intervals, each later arm against the first (Newcombe hybrid-score interval of the difference,
 * two-sided pooled z-test p of the sustained rate, Holm-adjusted across the comparisons), and the
 * sustained-rate difference the first and the smallest other arm could detect. Small cells are
 * hidden as in every report, with the rates, comparisons and power built on them.
 */
export function analyse(cells: readonly (Cells & { arm: Approach })[], minCellSize: number, withCompliance: boolean): Analysis {
  const total = Object.fromEntries(FIELDS.map((f) => [f, cells.reduce((s, c) => s + c[f], 0)])) as Cells;
  const mask = suppressionMask<Field>([...cells], total, minCellSize, FIELDS);
  const hidden = (i: number, ...fs: Field[]) => fs.some((f) => mask.rows[i]!.has(f));
  const arms: ArmRow[] = cells.map((c, i) => {
    const show = (f: Field) => (hidden(i, f) ? null : c[f]);
    const rate = (f: Field, over: Field) => (hidden(i, f, over) ? null : wilson(c[f], c[over]));
    return {
      arm: c.arm,
      allocated: show('allocated'),
      contacted: show('contacted'),
      responded: show('responded'),
      sustained: show('sustained'),
      responseRate: rate('responded', 'allocated'),
      sustainedRate: rate('sustained', 'allocated'),
      compliance: withCompliance ? rate('complied', 'contacted') : null,
      suppressed: mask.rows[i]!.size > 0,
    };
  });
  const first = cells[0]!;
  const raw = cells.slice(1).map((c, k) => {
    const i = k + 1;
    const ok = (...fs: Field[]) => !hidden(i, ...fs) && !hidden(0, ...fs);
    const sustainedOk = ok('allocated', 'sustained');
    return {
      arm: c.arm,
      vs: first.arm,
      sustainedRateDiff: sustainedOk ? newcombeDiff(c.sustained, c.allocated, first.sustained, first.allocated) : null,
      responseRateDiff: ok('allocated', 'responded') ? newcombeDiff(c.responded, c.allocated, first.responded, first.allocated) : null,
      pValue: sustainedOk ? twoProportionPValue(c.sustained, c.allocated, first.sustained, first.allocated) : null,
    };
  });
  const adjusted = holm(raw.map((r) => r.pValue));
  const comparisons = raw.map((r, k) => ({ ...r, pValueAdjusted: adjusted[k] ?? null }));
  const others = cells.slice(1).map((c) => c.allocated);
  const smallest = Math.min(...others);
  const anyHidden = cells.some((_, i) => hidden(i, 'allocated', 'sustained'));
  const pooled = total.allocated > 0 ? total.sustained / total.allocated : 0;
  return {
    arms,
    comparisons,
    // Above 1 no difference of rates is detectable at all: the arms are too small, and 1 says so.
    minimumDetectableDiff: anyHidden ? null : capped(minimumDetectableDiff(first.allocated, smallest, pooled)),
  };
}

const capped = (x: number | null) => (x === null ? null : Math.min(1, x));

/** The trial report's figures from the arms' counts (pure: tested against a recount of the cases). */
export function trialFigures(counts: readonly ArmCounts[], minCellSize: number) {
  const itt = analyse(counts, minCellSize, true);
  const pp = analyse(
    counts.map((c) => ({
      arm: c.arm,
      allocated: c.complied,
      contacted: c.complied,
      responded: c.compliedResponded,
      sustained: c.compliedSustained,
      complied: c.complied,
    })),
    minCellSize,
    false,
  );
  return { ...itt, analysis: 'intention_to_treat' as const, perProtocol: pp };
}

export function trialDefinition(minCellSize: number) {
  return {
    allocation:
      'stratified permuted blocks at first assignment: blocks of twice the number of arms per stratum, shuffled by a keyed hash of the trial id and the server secret; an allocation is never changed',
    analysis: 'intention to treat: every allocated case counts in its arm, whatever approach was used, contacted or not',
    perProtocol: 'secondary: only the cases that complied (the approaches of their first outbound touchpoint include their arm)',
    contacted: 'a first outbound touchpoint was logged',
    responded: 'an inbound touchpoint after the first outbound one',
    sustained: "the program's sustained rule (sustainedMinMessages, sustainedMinInbound) as in the engagement report",
    rates: 'over allocated cases (per protocol: over complying cases); 95% Wilson score interval',
    compliance: 'complying cases over contacted cases; 95% Wilson score interval (null per protocol)',
    comparisons:
      'each arm against the first: difference in rates with the Newcombe (1998) hybrid score interval (method 10); pValue: two-sided pooled two-proportion z-test of the sustained rate; pValueAdjusted: Holm (1979) step-down across the comparisons',
    minimumDetectableDiff:
      'the sustained-rate difference detectable with 80% power by a two-sided test at alpha 0.05, between the first arm and the smallest other arm, around the pooled sustained rate (0.5 while none or all are sustained); 1 when no difference is detectable',
    minCellSize,
    suppression: `counts between 1 and ${minCellSize - 1} are hidden (null), with the rates, comparisons and power built on them, and a second cell where one hidden cell could be recovered from the total`,
  };
}

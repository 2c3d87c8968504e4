import fc from 'fast-check';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/db/ids.js';
import { APPROACHES, IDEOLOGIES, OUTCOME_STATUSES, OUTCOMES, PLATFORMS, RISK_LEVELS } from '../src/domain/vocabulary.js';
import { cases, profiles, programs, staff } from '../src/db/schema/index.js';
import { DIMENSIONS } from '../src/domain/reports/contributions.js';
import { type Aggregates, buildRows, fromRaw, fromRollups } from '../src/domain/reports/engagement.js';
import { DEFAULT_SETTINGS } from '../src/domain/programs/settings.js';
import { rollupAll } from '../src/domain/reports/rollup.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.close());

const BASE = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const caseSpec = fc.record({
  flagHour: fc.integer({ min: 0, max: 24 * 60 }),
  accepted: fc.boolean(),
  contactAfter: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  respondAfter: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: null }),
  sustainAfter: fc.option(fc.integer({ min: 1, max: 500 }), { nil: null }),
  holders: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  outcome: fc.option(fc.constantFrom(...OUTCOMES), { nil: null }),
  ideology: fc.constantFrom(...IDEOLOGIES),
  platform: fc.constantFrom(...PLATFORMS),
  riskLevel: fc.constantFrom(...RISK_LEVELS),
  approaches: fc.uniqueArray(fc.constantFrom(...APPROACHES), { maxLength: 3 }),
  cost: fc.integer({ min: 0, max: 500 }),
  // Outcome review: the status a closed case's outcome reached, what review settled on, and erasure.
  outcomeStatus: fc.option(fc.constantFrom(...OUTCOME_STATUSES), { nil: null }),
  reviewedOutcome: fc.option(fc.constantFrom(...OUTCOMES), { nil: null }),
  erased: fc.boolean(),
});
type Spec = typeof caseSpec extends fc.Arbitrary<infer T> ? T : never;

function facts(s: Spec, staffIds: (string | null)[]) {
  const flaggedAt = new Date(BASE + s.flagHour * HOUR);
  const contactedAt = s.contactAfter === null ? null : new Date(flaggedAt.getTime() + s.contactAfter * HOUR);
  const respondedAt = contactedAt && s.respondAfter !== null ? new Date(contactedAt.getTime() + s.respondAfter * 1000) : null;
  const sustainedAt = respondedAt && s.sustainAfter !== null ? new Date(respondedAt.getTime() + s.sustainAfter * HOUR) : null;
  const holder = (i: number) => staffIds[s.holders[i]!] ?? null;
  return {
    ideology: s.ideology,
    platform: s.platform,
    riskLevel: s.riskLevel,
    flaggedAt,
    acceptedAt: s.accepted ? flaggedAt : null,
    contactedAt,
    contactedBy: contactedAt ? holder(0) : null,
    respondedAt,
    respondedBy: respondedAt ? holder(1) : null,
    sustainedAt,
    sustainedBy: sustainedAt ? holder(2) : null,
    assigneeId: holder(3),
    outcome: s.outcome,
    status: (s.outcome ? 'closed' : 'active') as 'closed' | 'active',
    stage: (sustainedAt ? 'sustained' : respondedAt ? 'responded' : contactedAt ? 'contacted' : 'none') as 'none',
    outboundCostCents: contactedAt ? s.cost : 0,
    firstOutboundApproaches: contactedAt ? s.approaches : null,
    outcomeStatus: s.outcome ? s.outcomeStatus : null,
    reviewedOutcome: s.outcome ? s.reviewedOutcome : null,
    erasedAt: s.erased ? flaggedAt : null,
  };
}

/** The review counts of the total row, counted here in JavaScript, independently of either SQL path. */
function expectedReviewCounts(specs: Spec[]) {
  let reviewedPositive = 0;
  let pendingReview = 0;
  for (const s of specs) {
    if (!s.outcome || !s.outcomeStatus) continue;
    if (['confirmed', 'adjudicated'].includes(s.outcomeStatus) && s.reviewedOutcome === 'positive_change') reviewedPositive++;
    if (['provisional', 'disputed'].includes(s.outcomeStatus) && !s.erased) pendingReview++;
  }
  return { reviewedPositive, pendingReview };
}

const plain = (a: Aggregates) => ({
  groups: Object.fromEntries([...a.groups.entries()].sort(([x], [y]) => x.localeCompare(y))),
  total: a.total,
  medians: Object.fromEntries([...a.medianSeconds.entries()].sort(([x], [y]) => x.localeCompare(y))),
});

describe('rollups equal a raw recount', () => {
  it('on random cases, after incremental passes over random changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseSpec, { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), caseSpec), { maxLength: 15 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 60 }),
        async (specs, changes, fromDay, spanDays) => {
          const programId = uuidv7();
          await db.db.insert(programs).values({ id: programId, name: 'p' });
          const staffIds: (string | null)[] = [uuidv7(), uuidv7(), uuidv7(), null];
          await db.db
            .insert(staff)
            .values(staffIds.filter(Boolean).map((id) => ({ id: id!, programId, name: 's', role: 'intervener' as const })));
          const ids = specs.map(() => uuidv7());
          await db.db.insert(cases).values(specs.map((s, i) => ({ id: ids[i]!, programId, ...facts(s, staffIds) })));
          await db.db
            .insert(profiles)
            .values(ids.map((id, i) => ({ caseId: id, programId, platform: specs[i]!.platform, handle: `h${id}` })));
          // Roll up some of it, change cases (as later touchpoints, reassignment, edits would), roll up again.
          await rollupAll(db.db, { programId, limit: 7 });
          const current = [...specs];
          for (const [n, spec] of changes) {
            current[n % ids.length] = spec;
            await db.db
              .update(cases)
              .set(facts(spec, staffIds))
              .where(eq(cases.id, ids[n % ids.length]!));
          }
          await rollupAll(db.db, { programId, limit: 5 });
          const from = new Date(BASE + fromDay * 86_400_000).toISOString().slice(0, 10);
          const to = new Date(BASE + (fromDay + spanDays) * 86_400_000).toISOString().slice(0, 10);
          for (const w of [
            { programId, from: '2025-12-01', to: '2026-04-01' },
            { programId, from, to },
          ]) {
            for (const dim of [null, ...DIMENSIONS]) {
              const rolled = await fromRollups(db.db, w, dim);
              const raw = await fromRaw(db.db, w, dim);
              expect(plain(rolled)).toEqual(plain(raw));
              // With review on, the report rows (positive from reviewed outcomes, pendingReview) agree too.
              const settings = { ...DEFAULT_SETTINGS, outcomeReview: 'required' as const, minCellSize: 1 };
              expect(buildRows(rolled, settings, dim)).toEqual(buildRows(raw, settings, dim));
            }
          }
          // Every case is flagged in the first window: its total's review counts are a plain recount of the cases.
          const whole = await fromRollups(db.db, { programId, from: '2025-12-01', to: '2026-04-01' }, null);
          expect({ reviewedPositive: whole.total.reviewedPositive, pendingReview: whole.total.pendingReview }).toEqual(
            expectedReviewCounts(current),
          );
          const reviewed = buildRows(whole, { ...DEFAULT_SETTINGS, outcomeReview: 'required', minCellSize: 1 }, null).at(-1)!;
          expect({ positive: reviewed.positive, pendingReview: reviewed.pendingReview }).toEqual({
            positive: expectedReviewCounts(current).reviewedPositive,
            pendingReview: expectedReviewCounts(current).pendingReview,
          });
          await db.db.delete(profiles).where(inArray(profiles.caseId, ids));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

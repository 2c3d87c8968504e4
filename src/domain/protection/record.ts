import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { retentionOverdueCount } from '../cases/store.js';
import { dsrCounts } from '../dsr/store.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { heldCaseCount } from '../holds/store.js';
import { ms, programSettings } from '../programs/settings.js';
import { CASE_STATUSES } from '../vocabulary.js';

/** What Overture holds, as the Art. 30 record states it (fixed by the code, not by hand). */
const CATEGORIES_OF_SUBJECTS = [
  'people whose public social-media profiles were flagged for outreach (charged with nothing)',
  'staff of the program (interveners, analysts, leads, evaluators, data-protection officers)',
];
const CATEGORIES_OF_DATA = [
  'public profile identity: platform, handle, profile URL, display name, language',
  'special-category data by inference: ideology (political or religious belief) and risk level',
  'indicators and evidence links from public posts',
  'records of outreach: time, direction, channel, approaches, sentiment, summaries',
  'case notes, follow-ups, safeguarding concerns, referrals and their consent, assessments',
  'staff welfare: exposure time, debriefs, supervision sessions, topic opt-outs',
];
const SECURITY_MEASURES = [
  'per-person access tokens stored as keyed hashes; role and case scope on every query (out of scope is 404)',
  'append-only, hash-chained audit log of every read and write of case data',
  'identity kept apart from case facts; reports from anonymous counts with small cells suppressed',
  'erasure on request and by retention deletes identity and free text, suppressing the profile by keyed hash',
  'legal holds that retention and erasure respect',
  'request values never logged; queue payloads and webhooks carry ids only',
  'pseudonymised, generalised evaluation export',
];

/** GET /v1/programs/{id}/record-of-processing (dpo, lead of the program; admin): built from settings and live counts. */
export async function recordOfProcessing(tx: Tx, ctx: Ctx, programId: string) {
  const p = ctx.principal;
  if (p.role !== 'admin' && p.programId !== programId) throw notFound('program');
  const settings = await programSettings(tx, programId);
  const now = ctx.clock.now();
  const dp = settings.dataProtection;
  const byStatus = await tx.execute<{ status: string; n: number }>(sql`
    select status::text as status, count(*)::int as n from cases where program_id = ${programId} group by status`);
  const casesByStatus = Object.fromEntries(CASE_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  for (const r of byStatus.rows) casesByStatus[r.status] = Number(r.n);
  const [facts] = (
    await tx.execute<{ erased: number; attested: number; total: number; suppressed: number }>(sql`
      select (select count(*)::int from cases where program_id = ${programId} and erased_at is not null) as erased,
             (select count(*)::int from cases where program_id = ${programId} and account_public and content_public) as attested,
             (select count(*)::int from cases where program_id = ${programId}) as total,
             (select count(*)::int from suppression_list) as suppressed`)
  ).rows;
  const dsr = await dsrCounts(tx, programId, now);
  const cutoffs = { now, neverContactedMs: ms(settings, 'retentionNeverContacted'), closedMs: ms(settings, 'retentionClosed') };
  ctx.audit({
    actorId: p.staffId,
    action: 'record_of_processing.read',
    targetType: 'program',
    targetId: programId,
    programId,
    requestId: ctx.requestId,
  });
  return {
    generatedAt: now,
    controller: dp.controller ?? null,
    purposes: dp.purposes ?? [],
    legalBasis: dp.legalBasis ?? null,
    article9Condition: dp.article9Condition ?? null,
    categoriesOfSubjects: CATEGORIES_OF_SUBJECTS,
    categoriesOfData: CATEGORIES_OF_DATA,
    recipients: dp.recipients ?? [],
    sources: dp.sources ?? [],
    retention: {
      neverContacted: settings.retentionNeverContacted,
      closed: settings.retentionClosed,
      rule: 'cases never contacted are erased retentionNeverContacted after flagging, closed cases retentionClosed after closing; held cases are kept until the hold ends',
    },
    securityMeasures: SECURITY_MEASURES,
    counts: {
      casesByStatus,
      erasures: Number(facts?.erased ?? 0),
      suppressionListSize: Number(facts?.suppressed ?? 0),
      // The same counts, and the same overdue rule, as GET /v1/dsr?status=overdue.
      openDsr: dsr.open,
      overdueDsr: dsr.overdue,
      // Due now and not erased: only a hold (or a retention run still to come) keeps these.
      retentionOverdue: await retentionOverdueCount(tx, programId, cutoffs),
      heldCases: await heldCaseCount(tx, programId, now),
      publicnessAttestedShare:
        Number(facts?.total ?? 0) === 0 ? null : Math.round((Number(facts!.attested) / Number(facts!.total)) * 10_000) / 10_000,
    },
  };
}

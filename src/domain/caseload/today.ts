import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { builtOnce } from '../../db/prepared.js';
import { cases, followUps, profiles } from '../../db/schema/index.js';
import { listReadEvents } from '../audit/log.js';
import { caseScope } from '../cases/scope.js';
import type { Ctx } from '../context.js';
import { forbidden } from '../errors.js';
import { OUTSTANDING } from '../followups/schedule.js';
import { ms, recentSettings, resolveSettings } from '../programs/settings.js';

export interface CaseloadItem {
  id: string;
  /** Whom to write to: the caller's own active cases only (scope is in the query). */
  platform: (typeof profiles.$inferSelect)['platform'];
  handle: string | null;
  displayName: string | null;
  stage: (typeof cases.$inferSelect)['stage'];
  riskLevel: (typeof cases.$inferSelect)['riskLevel'];
  lastTouchpointAt: Date | null;
  nextFollowUpAt: Date | null;
  awaitingReply: boolean;
  overdueFollowUps: number;
}

/**
 * The intervener's active cases with what needs doing, in one query: cases with overdue follow-ups
 * first, then those whose last message was theirs to answer, then by the next follow-up due.
 */
const caseloadQuery = builtOnce((tx: Tx) => {
  const now = sql.placeholder('now');
  // The program's overdueGrace in milliseconds, resolved in JavaScript (a stored value that no
  // longer validates reads as the default), as the reminders use it.
  const grace = sql`${sql.placeholder('graceMs')}::float8 * interval '1 millisecond'`;
  const due = tx
    .select({
      nextDueAt: sql<Date | null>`min(${followUps.dueAt})`.mapWith(followUps.dueAt).as('next_due_at'),
      overdue:
        sql<number>`count(*) filter (where ${followUps.status} = 'overdue' or ${followUps.dueAt} + ${grace} <= ${now}::timestamptz)::int`.as(
          'overdue',
        ),
    })
    .from(followUps)
    .where(and(eq(followUps.caseId, cases.id), inArray(followUps.status, [...OUTSTANDING])))
    .as('due');
  const awaitingReply = sql<boolean>`coalesce(${cases.lastTouchpointDirection} = 'inbound', false)`;
  return tx
    .select({
      id: cases.id,
      platform: profiles.platform,
      handle: profiles.handle,
      displayName: profiles.displayName,
      stage: cases.stage,
      riskLevel: cases.riskLevel,
      lastTouchpointAt: cases.lastTouchpointAt,
      nextFollowUpAt: due.nextDueAt,
      awaitingReply,
      overdueFollowUps: due.overdue,
    })
    .from(cases)
    .innerJoin(profiles, eq(profiles.caseId, cases.id))
    .leftJoinLateral(due, sql`true`)
    .where(caseScope('intervener'))
    .orderBy(desc(sql`${due.overdue} > 0`), desc(awaitingReply), sql`${due.nextDueAt} asc nulls last`, asc(cases.id))
    .prepare('overture_caseload');
});

export async function todayView(tx: Tx, ctx: Ctx): Promise<CaseloadItem[]> {
  // The caseload is an intervener's own: the prepared query has their scope built in.
  if (ctx.principal.role !== 'intervener') throw forbidden('The caseload view is for interveners.');
  // An intervener holds only cases of their own program (assignment checks it). The grace only
  // orders and counts what is shown, so settings read up to 2 s ago will do (recentSettings).
  const programId = ctx.principal.programId;
  const graceMs = ms(programId ? await recentSettings(tx, programId) : resolveSettings(null), 'overdueGrace');
  // Built once and prepared on each connection: interveners open this view all day.
  const rows = await caseloadQuery(tx).execute({ now: ctx.clock.now().toISOString(), staffId: ctx.principal.staffId, graceMs });
  ctx.audit(
    ...listReadEvents(
      ctx,
      'caseload.read',
      'case',
      ctx.principal.programId,
      rows.map((r) => r.id),
    ),
  );
  return rows;
}

/**
 * The caseload as the API sends it (caseloadSchema's shape), written directly: interveners open
 * this view all day, and encoding its items through zod took a fifth of the route's CPU
 * (bench/RESULTS.md). Fields are picked one by one, so nothing else can slip into the response;
 * test/hostile/openapi-conformance.test.ts checks the result against the published schema.
 */
export function caseloadJson(items: CaseloadItem[]): string {
  return JSON.stringify({
    items: items.map((i) => ({
      id: i.id,
      platform: i.platform,
      handle: i.handle,
      displayName: i.displayName,
      stage: i.stage,
      riskLevel: i.riskLevel,
      lastTouchpointAt: i.lastTouchpointAt?.toISOString() ?? null,
      nextFollowUpAt: i.nextFollowUpAt?.toISOString() ?? null,
      awaitingReply: i.awaitingReply,
      overdueFollowUps: i.overdueFollowUps,
    })),
  });
}

import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { builtOnce } from '../../db/hot.js';
import { cases, followUps, programs } from '../../db/schema/index.js';
import { auditEvent } from '../audit/log.js';
import { caseScope } from '../cases/scope.js';
import type { Ctx } from '../context.js';
import { forbidden } from '../errors.js';
import { OUTSTANDING } from '../followups/schedule.js';
import { DEFAULT_SETTINGS } from '../programs/settings.js';

export interface CaseloadItem {
  id: string;
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
  // Settings hold only overrides; ISO 8601 durations are valid PostgreSQL interval input. Epoch
  // seconds keep a day 24 h long, as in parseDuration, whatever the session time zone does.
  const graceSeconds = sql`extract(epoch from coalesce(${programs.settings} ->> 'overdueGrace', ${DEFAULT_SETTINGS.overdueGrace})::interval)::float8`;
  const due = tx
    .select({
      nextDueAt: sql<Date | null>`min(${followUps.dueAt})`.mapWith(followUps.dueAt).as('next_due_at'),
      overdue: sql<number>`count(*) filter (where ${followUps.status} = 'overdue' or ${followUps.dueAt} + ${graceSeconds} * interval '1 second' <= ${now}::timestamptz)::int`.as(
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
      stage: cases.stage,
      riskLevel: cases.riskLevel,
      lastTouchpointAt: cases.lastTouchpointAt,
      nextFollowUpAt: due.nextDueAt,
      awaitingReply,
      overdueFollowUps: due.overdue,
    })
    .from(cases)
    .innerJoin(programs, eq(programs.id, cases.programId))
    .leftJoinLateral(due, sql`true`)
    .where(caseScope('intervener'))
    .orderBy(desc(sql`${due.overdue} > 0`), desc(awaitingReply), sql`${due.nextDueAt} asc nulls last`, asc(cases.id))
    .prepare('overture_caseload');
});

export async function todayView(tx: Tx, ctx: Ctx): Promise<CaseloadItem[]> {
  // The caseload is an intervener's own: the prepared query has their scope built in.
  if (ctx.principal.role !== 'intervener') throw forbidden('The caseload view is for interveners.');
  // Built once and prepared on each connection: interveners open this view all day.
  const rows = await caseloadQuery(tx).execute({ now: ctx.clock.now().toISOString(), staffId: ctx.principal.staffId });
  await ctx.recordRead([auditEvent(ctx, 'caseload.read', 'case', null, ctx.principal.programId)]);
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
      stage: i.stage,
      riskLevel: i.riskLevel,
      lastTouchpointAt: i.lastTouchpointAt?.toISOString() ?? null,
      nextFollowUpAt: i.nextFollowUpAt?.toISOString() ?? null,
      awaitingReply: i.awaitingReply,
      overdueFollowUps: i.overdueFollowUps,
    })),
  });
}

import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, notInArray, or, type SQL, sql } from 'drizzle-orm';
import { type Db, isPool, type Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { activeHoldSql } from '../holds/store.js';
import { builtOnce, hotQuery, setList } from '../../db/prepared.js';
import { assignments, caseEvents, cases, profiles, suppressionList } from '../../db/schema/index.js';
import type { Principal } from '../staff/principal.js';
import { inactiveStaff } from '../staff/store.js';
import type { StageFacts } from '../touchpoints/stage.js';
import { STAFF_ROLES } from '../vocabulary.js';
import { OPEN_STATUSES } from './rules.js';
import { caseScope } from './scope.js';
import type { CaseStatus } from './workflow.js';

/**
 * The only code that writes cases, profiles, case_events, assignments and suppression_list. (The
 * stage facts' update, stageUpdateSql, is run by touchpoints/store.ts as part of the touchpoint
 * insert's statement: the text is this module's, the round trip the insert's.)
 */

export type CaseRow = typeof cases.$inferSelect;
export type ProfileRow = typeof profiles.$inferSelect;
export type CaseEventRow = typeof caseEvents.$inferSelect;
export interface CaseWithProfile {
  case: CaseRow;
  profile: ProfileRow;
}

export type NewCase = Pick<
  typeof cases.$inferInsert,
  | 'id'
  | 'programId'
  | 'ideology'
  | 'riskLevel'
  | 'platform'
  | 'indicators'
  | 'flaggedAt'
  | 'flaggedBy'
  | 'accountPublic'
  | 'contentPublic'
  | 'publicnessCheckedAt'
>;
export type NewProfile = Pick<
  typeof profiles.$inferInsert,
  'caseId' | 'programId' | 'platform' | 'handle' | 'url' | 'displayName' | 'language'
>;
export type CaseChanges = Partial<Omit<typeof cases.$inferInsert, 'id' | 'programId' | 'version' | 'updatedAt' | 'createdAt'>>;

export interface NewCaseEvent {
  caseId: string;
  programId: string;
  actorId: string | null;
  kind: string;
  fromStatus: CaseStatus | null;
  toStatus: CaseStatus | null;
  reason?: string | null;
  data?: Record<string, unknown> | null;
  at: Date;
}

export interface NewAssignment {
  id: string;
  caseId: string;
  staffId: string;
  assignedBy: string;
  startedAt: Date;
  override: boolean;
  overrideReason: string | null;
}

export async function insertCase(tx: Tx, values: NewCase): Promise<CaseRow> {
  const [row] = await tx.insert(cases).values(values).returning();
  return row!;
}

export async function insertProfile(tx: Tx, values: NewProfile): Promise<ProfileRow> {
  const [row] = await tx.insert(profiles).values(values).returning();
  return row!;
}

/** Every profile still holding a handle (erased ones hold none). */
export async function profilesWithHandles(tx: Tx): Promise<Pick<ProfileRow, 'caseId' | 'programId' | 'platform' | 'handle' | 'open'>[]> {
  return tx
    .select({
      caseId: profiles.caseId,
      programId: profiles.programId,
      platform: profiles.platform,
      handle: profiles.handle,
      open: profiles.open,
    })
    .from(profiles)
    .where(isNotNull(profiles.handle));
}

export async function setProfileHandle(tx: Tx, caseId: string, handle: string): Promise<void> {
  await tx.update(profiles).set({ handle }).where(eq(profiles.caseId, caseId));
}

/** The case holding this profile open in the program, if any. */
export async function openCaseOfProfile(
  tx: Tx,
  programId: string,
  platform: ProfileRow['platform'],
  handle: string,
): Promise<string | undefined> {
  const [dup] = await tx
    .select({ caseId: profiles.caseId })
    .from(profiles)
    .where(and(eq(profiles.programId, programId), eq(profiles.platform, platform), eq(profiles.handle, handle), eq(profiles.open, true)));
  return dup?.caseId;
}

export async function insertCaseEvent(tx: Tx, e: NewCaseEvent): Promise<void> {
  await tx.insert(caseEvents).values({
    id: uuidv7(),
    caseId: e.caseId,
    programId: e.programId,
    actorId: e.actorId,
    kind: e.kind,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    reason: e.reason ?? null,
    data: e.data ?? null,
    at: e.at,
  });
}

function prepareLoad(db: Db, role: Principal['role']) {
  return db
    .select({ case: cases, profile: profiles })
    .from(cases)
    .innerJoin(profiles, eq(profiles.caseId, cases.id))
    .where(and(eq(cases.id, sql.placeholder('id')), caseScope(role)))
    .prepare(`overture_load_case_${role}`);
}

/** The hot read path (every GET of a case): one query per role, built once, prepared on each connection. */
const preparedLoad = Object.fromEntries(STAFF_ROLES.map((role) => [role, builtOnce((db: Db) => prepareLoad(db, role))])) as Record<
  Principal['role'],
  (db: Db) => ReturnType<typeof prepareLoad>
>;

/** What a drizzle prepared query keeps (drizzle-orm 0.45 internals): enough to bind it to another session. */
interface BuiltQuery {
  queryString: string;
  params: unknown[];
  fields: unknown;
  joinsNotNullableMap: unknown;
}
interface PreparingSession {
  prepareQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    name: string,
    arrayMode: boolean,
  ): { joinsNotNullableMap: unknown; execute(values: Record<string, unknown>): Promise<CaseWithProfile[]> };
}

/**
 * The locked read every write to a case starts with, built by drizzle once per role and bound to
 * each transaction's session: building the query took an eighth of a touchpoint write's CPU, and
 * as a named statement PostgreSQL parses and plans it once per connection (bench/RESULTS.md).
 */
const lockedBuilt = new Map<Principal['role'], BuiltQuery>();
function lockedLoad(tx: Tx, role: Principal['role']) {
  const name = `overture_lock_case_${role}`;
  let built = lockedBuilt.get(role);
  if (!built) {
    built = tx
      .select({ case: cases, profile: profiles })
      .from(cases)
      .innerJoin(profiles, eq(profiles.caseId, cases.id))
      .where(and(eq(cases.id, sql.placeholder('id')), caseScope(role)))
      .for('update', { of: cases })
      .prepare(name) as unknown as BuiltQuery;
    if (typeof built.queryString !== 'string' || !Array.isArray(built.params) || !built.fields)
      throw new Error('lockedLoad: drizzle prepared query internals changed');
    lockedBuilt.set(role, built);
  }
  const session = (tx as unknown as { session?: PreparingSession }).session;
  if (typeof session?.prepareQuery !== 'function') throw new Error('lockedLoad: no drizzle session on the transaction');
  const q = session.prepareQuery({ sql: built.queryString, params: built.params }, built.fields, name, true);
  q.joinsNotNullableMap = built.joinsNotNullableMap;
  return q;
}

/** A case in the principal's scope; `lock` takes the case row for the rest of the transaction. */
export async function findCaseInScope(
  tx: Tx,
  p: Principal,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<CaseWithProfile | undefined> {
  const values = { id, programId: p.programId, staffId: p.staffId };
  if (opts.lock) return (await lockedLoad(tx, p.role).execute(values))[0];
  if (isPool(tx)) return (await preparedLoad[p.role](tx).execute(values))[0];
  const [row] = await tx
    .select({ case: cases, profile: profiles })
    .from(cases)
    .innerJoin(profiles, eq(profiles.caseId, cases.id))
    .where(and(eq(cases.id, id), caseScope(p)));
  return row;
}

/** Takes a share lock on the case row; undefined when there is no such case. */
export async function shareLockCase(tx: Tx, caseId: string): Promise<{ erasedAt: Date | null } | undefined> {
  const [row] = await tx.select({ erasedAt: cases.erasedAt }).from(cases).where(eq(cases.id, caseId)).for('share');
  return row;
}

export interface CaseListFilter {
  status?: CaseStatus;
  stage?: CaseRow['stage'];
  assigneeId?: string;
  ideology?: CaseRow['ideology'];
  platform?: CaseRow['platform'];
  riskLevel?: CaseRow['riskLevel'];
  /** Active cases whose holder is deactivated (waiting for a handover). */
  orphaned?: boolean;
  after?: string;
}

const orphanedSql = sql`(${cases.status} = 'active' and ${cases.assigneeId} in ${inactiveStaff()})`;

export async function listCasesInScope(tx: Tx, p: Principal, f: CaseListFilter, limit: number): Promise<CaseWithProfile[]> {
  const where: SQL[] = [caseScope(p)];
  if (f.status) where.push(eq(cases.status, f.status));
  if (f.stage) where.push(eq(cases.stage, f.stage));
  if (f.assigneeId) where.push(eq(cases.assigneeId, f.assigneeId));
  if (f.ideology) where.push(eq(cases.ideology, f.ideology));
  if (f.platform) where.push(eq(cases.platform, f.platform));
  if (f.riskLevel) where.push(eq(cases.riskLevel, f.riskLevel));
  if (f.orphaned !== undefined) where.push(f.orphaned ? orphanedSql : sql`not ${orphanedSql}`);
  if (f.after) where.push(gt(cases.id, f.after));
  return tx
    .select({ case: cases, profile: profiles })
    .from(cases)
    .innerJoin(profiles, eq(profiles.caseId, cases.id))
    .where(and(...where))
    .orderBy(asc(cases.id))
    .limit(limit);
}

/**
 * Applies `changes`, bumps the version and returns the row; with `expectedVersion`, only if the
 * row still has it (undefined otherwise).
 */
export async function updateCase(
  tx: Tx,
  id: string,
  changes: CaseChanges,
  now: Date,
  expectedVersion?: number,
): Promise<CaseRow | undefined> {
  const [row] = await tx
    .update(cases)
    .set({ ...changes, version: sql`${cases.version} + 1`, updatedAt: now })
    .where(expectedVersion === undefined ? eq(cases.id, id) : and(eq(cases.id, id), eq(cases.version, expectedVersion)))
    .returning();
  return row;
}

export async function updateProfile(tx: Tx, caseId: string, changes: Partial<Pick<ProfileRow, 'language' | 'open'>>): Promise<ProfileRow> {
  const [row] = await tx.update(profiles).set(changes).where(eq(profiles.caseId, caseId)).returning();
  return row!;
}

/** Every column deriveStage decides (a fact it gains fails to compile until it is listed). */
const STAGE_FACTS = [
  'stage',
  'contactedAt',
  'contactedBy',
  'respondedAt',
  'respondedBy',
  'sustainedAt',
  'sustainedBy',
  'firstOutboundApproaches',
  'touchpointCount',
  'inboundCount',
  'outboundCostCents',
  'lastTouchpointAt',
  'lastTouchpointDirection',
  'firstOutreachAccountId',
  'lastTouchpointId',
  'conversationMessages',
  'conversationInbound',
  'stageRules',
] as const satisfies readonly (keyof StageFacts)[];
type Unlisted = Exclude<keyof StageFacts, (typeof STAGE_FACTS)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;
/**
 * The stage update as SQL, for a statement of its own or one that carries it (the touchpoint
 * insert's, touchpoints/store.ts): the case id at `$caseParam`, then `stageUpdateValues` from `$first` on.
 */
export function stageUpdateSql(caseParam: number, first: number): string {
  // `version` on the right is the row's before the update: both columns get the new version.
  return `update cases set ${setList(cases, STAGE_FACTS, first + 1)}, version = version + 1, stage_version = version + 1,
    updated_at = $${first} where id = $${caseParam}`;
}
/** The values `stageUpdateSql` numbers from `first`. */
export function stageUpdateValues(now: Date, facts: StageFacts): unknown[] {
  return [now, ...STAGE_FACTS.map((k) => facts[k])];
}
const STAGE_UPDATE_SQL = stageUpdateSql(1, 2);

/** The stage, stage timestamps and counters derived from a case's touchpoints (voids; a logged one writes them with its insert). */
export async function writeStageFacts(tx: Tx, caseId: string, now: Date, facts: StageFacts): Promise<void> {
  await hotQuery(tx, 'case_stage_update', STAGE_UPDATE_SQL, [caseId, ...stageUpdateValues(now, facts)]);
}

/** Open cases an intervener holds, counted in SQL. */
export async function countActiveCasesOf(tx: Tx, staffId: string): Promise<number> {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(cases)
    .where(and(eq(cases.assigneeId, staffId), eq(cases.status, 'active')));
  return r?.n ?? 0;
}

/** Active cases per holder in a program (holders with none are absent). */
export async function activeCaseCounts(tx: Tx, programId: string): Promise<Map<string, number>> {
  const rows = await tx
    .select({ holderId: cases.assigneeId, n: sql<number>`count(*)::int` })
    .from(cases)
    .where(and(eq(cases.programId, programId), eq(cases.status, 'active')))
    .groupBy(cases.assigneeId);
  return new Map(rows.flatMap((r) => (r.holderId ? [[r.holderId, r.n] as const] : [])));
}

export async function endOpenAssignments(tx: Tx, caseId: string, now: Date): Promise<void> {
  await tx
    .update(assignments)
    .set({ endedAt: now })
    .where(and(eq(assignments.caseId, caseId), isNull(assignments.endedAt)));
}

export async function insertAssignment(tx: Tx, a: NewAssignment): Promise<void> {
  await tx.insert(assignments).values(a);
}

/** The case's latest event of a kind (ids are time-ordered). */
export async function latestCaseEventOf(tx: Tx, caseId: string, kind: string): Promise<CaseEventRow[]> {
  return tx
    .select()
    .from(caseEvents)
    .where(and(eq(caseEvents.caseId, caseId), eq(caseEvents.kind, kind)))
    .orderBy(desc(caseEvents.id))
    .limit(1);
}

export async function listCaseEvents(tx: Tx, caseId: string, limit: number, after?: string): Promise<CaseEventRow[]> {
  return tx
    .select()
    .from(caseEvents)
    .where(and(eq(caseEvents.caseId, caseId), after ? gt(caseEvents.id, after) : undefined))
    .orderBy(asc(caseEvents.id))
    .limit(limit);
}

export interface QuietCase {
  id: string;
  program_id: string;
  assignee_id: string | null;
  spell_start: Date;
}

/**
 * Active cases of a program quiet for `quietMs` at `now` and not yet alerted for this spell. A
 * spell starts at the last touchpoint (or, with none, the latest assignment).
 */
export async function quietActiveCases(db: Db, programId: string, now: Date, quietMs: number, limit: number): Promise<QuietCase[]> {
  const rows = await hotQuery<QuietCase>(
    db,
    null,
    `select c.id, c.program_id, c.assignee_id, s.spell_start
       from cases c
       cross join lateral (
         select coalesce(c.last_touchpoint_at, (select max(a.started_at) from assignments a where a.case_id = c.id), c.flagged_at) as spell_start
       ) s
      where c.program_id = $2 and c.status = 'active'
        and s.spell_start <= $1::timestamptz - ($3::float8 * interval '1 millisecond')
        and (c.no_contact_alerted_at is null or c.no_contact_alerted_at < s.spell_start)
      order by c.id
      limit $4`,
    [now, programId, quietMs, limit],
  );
  return rows;
}

/** Claims a quiet spell's alert; false when another run claimed it first. */
export async function claimNoContactAlert(tx: Tx, caseId: string, spellStart: Date): Promise<boolean> {
  const claimed = await tx
    .update(cases)
    .set({ noContactAlertedAt: spellStart })
    .where(and(eq(cases.id, caseId), or(isNull(cases.noContactAlertedAt), lt(cases.noContactAlertedAt, spellStart))))
    .returning({ id: cases.id });
  return claimed.length > 0;
}

/**
 * Unerased cases of a program past retention, locked and skipped when another worker holds them:
 * never contacted and flagged before `neverContactedBefore`, or closed before `closedBefore`.
 */
export interface RetentionCutoffs {
  now: Date;
  neverContactedMs: number;
  closedMs: number;
}

/**
 * Retention's rule, the one predicate the job and the preview share: a case not erased, never
 * contacted `neverContactedMs` after flagging, or closed `closedMs` after closing, as of `at`, and
 * not held then. Milliseconds as parameters: exactly the spans the settings name, whatever the
 * session's zone.
 */
function retentionDueSql(programId: string, c: RetentionCutoffs, at: Date, held: 'skip' | 'only' | 'any'): SQL {
  const atSql = sql`${at.toISOString()}::timestamptz`;
  const before = (msAgo: number) => sql`${atSql} - ${msAgo}::float8 * interval '1 millisecond'`;
  const closed: CaseStatus = 'closed';
  const hold = activeHoldSql(sql`c.id`, atSql);
  return sql`c.program_id = ${programId} and c.erased_at is null and (
       (c.contacted_at is null and c.flagged_at <= ${before(c.neverContactedMs)})
       or (c.status = ${closed} and c.closed_at <= ${before(c.closedMs)}))
     and ${held === 'skip' ? sql`not ${hold}` : held === 'only' ? hold : sql`true`}`;
}

/** When retention falls due for a case (`t.due_at`), and under which rule (`t.rule`): whichever of its two deadlines comes first. */
function retentionDueAtSql(c: RetentionCutoffs): SQL {
  const after = (col: SQL, ms: number) => sql`${col} + ${ms}::float8 * interval '1 millisecond'`;
  return sql`cross join lateral (select ${after(sql`c.flagged_at`, c.neverContactedMs)} as never_due, ${after(sql`c.closed_at`, c.closedMs)} as closed_due) d
    cross join lateral (select case when c.contacted_at is null and (d.closed_due is null or d.never_due <= d.closed_due)
      then 'never_contacted' else 'closed' end as rule) r
    cross join lateral (select r.rule, case when r.rule = 'never_contacted' then d.never_due else d.closed_due end as due_at) t`;
}

/** The cases retention erases now, claimed (SKIP LOCKED) so two workers can run it at once; held cases are left out. */
export async function claimRetentionDue(tx: Tx, programId: string, cutoffs: RetentionCutoffs, limit: number): Promise<string[]> {
  const due = await tx.execute<{ id: string }>(sql`
    select c.id from cases c where ${retentionDueSql(programId, cutoffs, cutoffs.now, 'skip')}
     order by c.id limit ${limit} for update of c skip locked`);
  return due.rows.map((r) => r.id);
}

/** Cases retention would erase now but a hold keeps (retention says what it skipped). */
export async function heldRetentionDue(tx: Tx, programId: string, cutoffs: RetentionCutoffs): Promise<string[]> {
  const rows = await tx.execute<{ id: string }>(sql`
    select c.id from cases c where ${retentionDueSql(programId, cutoffs, cutoffs.now, 'only')} order by c.id`);
  return rows.rows.map((r) => r.id);
}

/** Cases past their retention now and not erased, held or not (the record of processing's `retentionOverdue`). */
export async function retentionOverdueCount(tx: Tx, programId: string, cutoffs: RetentionCutoffs): Promise<number> {
  const rows = await tx.execute<{ n: number }>(sql`
    select count(*)::int as n from cases c where ${retentionDueSql(programId, cutoffs, cutoffs.now, 'any')}`);
  return Number(rows.rows[0]?.n ?? 0);
}

/** What retention will erase by `until` (the same predicate as the job, as of then), earliest first. */
export async function retentionDueBy(
  tx: Tx,
  programId: string,
  cutoffs: RetentionCutoffs,
  until: Date,
  limit: number,
): Promise<{ caseId: string; rule: 'never_contacted' | 'closed'; dueAt: Date }[]> {
  const rows = await tx.execute<{ id: string; rule: 'never_contacted' | 'closed'; due_at: string }>(sql`
    select c.id, t.rule, t.due_at from cases c ${retentionDueAtSql(cutoffs)}
     where ${retentionDueSql(programId, cutoffs, until, 'skip')}
     order by t.due_at, c.id limit ${limit}`);
  return rows.rows.map((r) => ({ caseId: r.id, rule: r.rule, dueAt: new Date(r.due_at) }));
}

export async function lockCaseRow(tx: Tx, caseId: string): Promise<CaseRow | undefined> {
  const [c] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update');
  return c;
}

export async function findProfile(tx: Tx, caseId: string): Promise<ProfileRow | undefined> {
  const [p] = await tx.select().from(profiles).where(eq(profiles.caseId, caseId));
  return p;
}

export async function addSuppression(tx: Tx, hash: string): Promise<void> {
  await tx.insert(suppressionList).values({ hash }).onConflictDoNothing();
}

/**
 * Erases the identity and free text the case aggregate holds (profile, indicator notes and
 * evidence links, assignment override reasons, event reasons and data), closes it if it was open
 * and ends its assignments. Returns the status it ends in.
 */
export async function eraseCaseIdentity(tx: Tx, c: CaseRow, now: Date): Promise<CaseStatus> {
  await tx
    .update(profiles)
    .set({ handle: null, url: null, displayName: null, language: null, open: false })
    .where(eq(profiles.caseId, c.id));
  const wasOpen = OPEN_STATUSES.includes(c.status);
  await tx
    .update(cases)
    .set({
      indicators: c.indicators.map((i) => ({ kind: i.kind, evidenceUrl: null, note: null })),
      erasedAt: now,
      ...(wasOpen ? { status: 'closed' as const, closedAt: c.closedAt ?? now } : {}),
      version: sql`${cases.version} + 1`,
      updatedAt: now,
    })
    .where(eq(cases.id, c.id));
  await tx.update(assignments).set({ overrideReason: null }).where(eq(assignments.caseId, c.id));
  await endOpenAssignments(tx, c.id, now);
  await tx.update(caseEvents).set({ reason: null, data: null }).where(eq(caseEvents.caseId, c.id));
  return wasOpen ? 'closed' : c.status;
}

/** A case's status and holder, unscoped (for the reminders, which act for the system). */
export async function caseStatusAndHolder(tx: Tx, caseId: string): Promise<Pick<CaseRow, 'status' | 'assigneeId'> | undefined> {
  const [c] = await tx.select({ status: cases.status, assigneeId: cases.assigneeId }).from(cases).where(eq(cases.id, caseId));
  return c;
}

/** Whether any of these keyed hashes is on the suppression list. */
export async function anySuppressed(tx: Tx, hashes: readonly string[]): Promise<boolean> {
  const rows = await tx
    .select({ hash: suppressionList.hash })
    .from(suppressionList)
    .where(inArray(suppressionList.hash, [...hashes]));
  return rows.length > 0;
}

/** Ids of the active cases a staff member holds, oldest first. */
export async function activeCaseIdsOf(tx: Tx, staffId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.assigneeId, staffId), eq(cases.status, 'active')))
    .orderBy(asc(cases.id));
  return rows.map((r) => r.id);
}

/** A case of this program, unscoped within it (outcome review: peers read beyond their caseload); `lock` takes the row. */
export async function findCaseOfProgram(
  tx: Tx,
  programId: string,
  caseId: string,
  opts: { lock?: boolean } = {},
): Promise<CaseRow | undefined> {
  const q = tx
    .select()
    .from(cases)
    .where(and(eq(cases.id, caseId), eq(cases.programId, programId)));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

/** Every staff member who has held the case (an assignment period, ended or not): its former holders. */
export async function holderIdsOf(tx: Tx, caseId: string): Promise<string[]> {
  const rows = await tx.selectDistinct({ staffId: assignments.staffId }).from(assignments).where(eq(assignments.caseId, caseId));
  return rows.map((r) => r.staffId);
}

/**
 * Closed, unerased cases of the program with this outcome status that `staffId` never held,
 * leaving out `exclude` (the cases they already reviewed), in id order after `after`.
 */
export async function casesAwaitingReviewBy(
  tx: Tx | Db,
  f: { programId: string; staffId: string; outcomeStatus: NonNullable<CaseRow['outcomeStatus']>; exclude: string[]; after?: string },
  limit: number,
): Promise<CaseRow[]> {
  const closed: CaseStatus = 'closed';
  return tx
    .select()
    .from(cases)
    .where(
      and(
        eq(cases.programId, f.programId),
        eq(cases.status, closed),
        eq(cases.outcomeStatus, f.outcomeStatus),
        isNull(cases.erasedAt),
        sql`not exists (select 1 from ${assignments} a where a.case_id = ${cases.id} and a.staff_id = ${f.staffId})`,
        f.exclude.length > 0 ? notInArray(cases.id, f.exclude) : undefined,
        f.after ? gt(cases.id, f.after) : undefined,
      ),
    )
    .orderBy(asc(cases.id))
    .limit(limit);
}

/** What the evaluation export reads of a case: anonymous facts, stage times and counts; of the profile, its language only. */
export interface CaseExportFacts {
  id: string;
  ideology: CaseRow['ideology'];
  platform: CaseRow['platform'];
  language: string | null;
  riskLevel: CaseRow['riskLevel'];
  status: CaseRow['status'];
  stage: CaseRow['stage'];
  flaggedAt: Date;
  contactedAt: Date | null;
  respondedAt: Date | null;
  sustainedAt: Date | null;
  closedAt: Date | null;
  touchpoints: number;
  inbound: number;
  firstOutboundApproaches: string[] | null;
  outcome: CaseRow['outcome'];
  outcomeStatus: CaseRow['outcomeStatus'];
  reviewedOutcome: CaseRow['reviewedOutcome'];
  reviewedSignals: string[] | null;
  trialArm: string | null;
  assigneeId: string | null;
  erasedAt: Date | null;
}

/** The program's cases flagged in [from, to), oldest first: never a handle, URL, display name, indicator or note. */
export async function caseExportFacts(tx: Tx, programId: string, from: Date, to: Date): Promise<CaseExportFacts[]> {
  return tx
    .select({
      id: cases.id,
      ideology: cases.ideology,
      platform: cases.platform,
      language: profiles.language,
      riskLevel: cases.riskLevel,
      status: cases.status,
      stage: cases.stage,
      flaggedAt: cases.flaggedAt,
      contactedAt: cases.contactedAt,
      respondedAt: cases.respondedAt,
      sustainedAt: cases.sustainedAt,
      closedAt: cases.closedAt,
      touchpoints: cases.touchpointCount,
      inbound: cases.inboundCount,
      firstOutboundApproaches: cases.firstOutboundApproaches,
      outcome: cases.outcome,
      outcomeStatus: cases.outcomeStatus,
      reviewedOutcome: cases.reviewedOutcome,
      reviewedSignals: cases.reviewedSignals,
      trialArm: cases.trialArm,
      assigneeId: cases.assigneeId,
      erasedAt: cases.erasedAt,
    })
    .from(cases)
    .leftJoin(profiles, eq(profiles.caseId, cases.id))
    .where(and(eq(cases.programId, programId), sql`${cases.flaggedAt} >= ${from.toISOString()}::timestamptz`, lt(cases.flaggedAt, to)))
    .orderBy(asc(cases.flaggedAt), asc(cases.id));
}

/** Cases of the program whose profile holds this normalised handle, open or not (a data-subject request's live matches). */
export async function casesOfHandle(tx: Tx, programId: string, platform: ProfileRow['platform'], handle: string): Promise<string[]> {
  const rows = await tx
    .select({ caseId: profiles.caseId })
    .from(profiles)
    .where(and(eq(profiles.programId, programId), eq(profiles.platform, platform), eq(profiles.handle, handle)))
    .orderBy(asc(profiles.caseId));
  return rows.map((r) => r.caseId);
}

/** Status and erasure of each of these cases of the program (others are left out). */
export async function caseStatusesOf(
  tx: Tx,
  programId: string,
  ids: readonly string[],
): Promise<Map<string, Pick<CaseRow, 'status' | 'erasedAt'>>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ id: cases.id, status: cases.status, erasedAt: cases.erasedAt })
    .from(cases)
    .where(and(eq(cases.programId, programId), inArray(cases.id, [...ids])));
  return new Map(rows.map((r) => [r.id, { status: r.status, erasedAt: r.erasedAt }]));
}

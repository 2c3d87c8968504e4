import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../src/db/client.js';
import type { Clock } from '../src/domain/clock.js';
import { createProgram } from '../src/domain/programs/service.js';
import { DueBatcher } from '../src/domain/reminders/due-batch.js';
import { fireFollowUpDue } from '../src/domain/reminders/fire.js';
import { createStaff } from '../src/domain/staff/service.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/**
 * Due follow-ups fire in batches: jobs arriving while one statement is in flight share the next
 * (one commit for many reminders). Each still gets its own answer, exactly one notification per
 * follow-up, and what cannot fire (stale version, not yet due, the same one twice) is left to the
 * general path.
 */
let db: TestDatabase;
let counted: DbHandle;
let statements = 0;
let programId: string;
let intervener: string;
let lead: string;
const clock: Clock = { now: () => new Date() };

beforeAll(async () => {
  db = await createTestDatabase();
  counted = createDb(db.url, { max: 4, onQuery: () => statements++ });
  programId = (await createProgram(db.db, { name: 'Due batches' })).id;
  intervener = (await createStaff(db.db, { programId, name: 'Ivy', role: 'intervener' })).id;
  lead = (await createStaff(db.db, { programId, name: 'Lee', role: 'lead' })).id;
});
afterAll(async () => {
  await counted.close();
  await db.close();
});

/** `n` follow-ups on one active case, due `dueInMs` from now (negative: already due). */
async function followUps(n: number, dueInMs = -1_000): Promise<{ id: string; version: number }[]> {
  const { rows: c } = await db.pool.query<{ id: string }>(
    `insert into cases (id, program_id, status, ideology, risk_level, platform, assignee_id, flagged_at, accepted_at, approved_at)
     values (gen_random_uuid(), $1, 'active', 'far_right', 'medium', 'x', $2, now() - interval '2 days', now() - interval '2 days', now() - interval '2 days')
     returning id`,
    [programId, intervener],
  );
  const { rows } = await db.pool.query<{ id: string; version: number }>(
    `insert into follow_ups (id, case_id, program_id, assignee_id, due_at, kind, created_by)
       select gen_random_uuid(), $1, $2, $3, now() + $4::int * interval '1 millisecond', 'follow_up', $5 from generate_series(1, $6::int)
     returning id, version`,
    [c[0]!.id, programId, intervener, dueInMs, lead, n],
  );
  return rows;
}

const notificationsOf = async (ids: string[]) =>
  (
    await db.pool.query<{ subject_id: string; n: number }>(
      `select subject_id, count(*)::int as n from notifications where kind = 'follow_up_due' and subject_id = any($1::uuid[]) group by subject_id`,
      [ids],
    )
  ).rows;

describe('DueBatcher', () => {
  it('fires 40 jobs arriving together in three statements (the first two alone, two batches in flight; the rest in one), one notification each', async () => {
    const due = await followUps(40);
    const batcher = new DueBatcher(counted.db, clock);
    statements = 0;
    const fired = await Promise.all(due.map((f) => batcher.fire(f.id, f.version)));
    expect(statements).toBe(3);
    expect(fired.every((f, i) => f?.id === due[i]!.id && f.status === 'due' && f.notificationId !== null)).toBe(true);
    const notified = await notificationsOf(due.map((f) => f.id));
    expect(notified).toHaveLength(40);
    expect(notified.every((r) => r.n === 1)).toBe(true);
  });

  it('leaves a stale version, a follow-up not yet due and a second delivery to the general path, firing the rest', async () => {
    const [ok1, ok2, stale, early] = [...(await followUps(3)), ...(await followUps(1, 60_000))];
    const batcher = new DueBatcher(counted.db, clock);
    const [a, b, c, d, again] = await Promise.all([
      batcher.fire(ok1!.id, ok1!.version),
      batcher.fire(ok2!.id, ok2!.version),
      batcher.fire(stale!.id, stale!.version + 1),
      batcher.fire(early!.id, early!.version),
      batcher.fire(ok2!.id, ok2!.version),
    ]);
    expect([a?.id, b?.id, c, d, again]).toEqual([ok1!.id, ok2!.id, undefined, undefined, undefined]);
    expect(
      (await notificationsOf([ok1!.id, ok2!.id, stale!.id, early!.id])).sort((x, y) => x.subject_id.localeCompare(y.subject_id)),
    ).toEqual(
      [
        { subject_id: ok1!.id, n: 1 },
        { subject_id: ok2!.id, n: 1 },
      ].sort((x, y) => x.subject_id.localeCompare(y.subject_id)),
    );
  });

  it('through fireFollowUpDue, concurrent jobs and a duplicate delivery end with one notification each', async () => {
    const due = await followUps(12);
    const results = await Promise.all([...due, due[0]!, due[5]!].map((f) => fireFollowUpDue(counted.db, clock, f.id, f.version)));
    expect(results.filter((r) => r.outcome === 'fired')).toHaveLength(12);
    expect(results.filter((r) => r.outcome === 'stale')).toHaveLength(2);
    const notified = await notificationsOf(due.map((f) => f.id));
    expect(notified.every((r) => r.n === 1) && notified.length === 12).toBe(true);
  });

  it('fails every job of a batch whose statement fails, and goes on with the next one', async () => {
    const [good, other, third] = await followUps(3);
    const batcher = new DueBatcher(counted.db, clock);
    const results = await Promise.allSettled([
      batcher.fire(good!.id, good!.version),
      batcher.fire(other!.id, other!.version),
      batcher.fire('not-a-uuid', 1),
      batcher.fire(third!.id, third!.version),
    ]);
    // The first two went alone (two batches in flight) and fired; the other two shared the next
    // batch, which failed as a whole (a malformed id); retried (as BullMQ retries a failed job),
    // the fourth fires then, once.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[0] as PromiseFulfilledResult<unknown>).value).toMatchObject({ id: good!.id });
    expect((results[1] as PromiseFulfilledResult<unknown>).value).toMatchObject({ id: other!.id });
    expect(await batcher.fire(third!.id, third!.version)).toMatchObject({ id: third!.id });
    expect(await batcher.fire(good!.id, good!.version)).toBeUndefined();
    const bySubject = (a: { subject_id: string }, b: { subject_id: string }) => a.subject_id.localeCompare(b.subject_id);
    expect((await notificationsOf([good!.id, other!.id, third!.id])).sort(bySubject)).toEqual(
      [good!.id, other!.id, third!.id].map((id) => ({ subject_id: id, n: 1 })).sort(bySubject),
    );
  });
});

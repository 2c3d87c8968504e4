import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followUps, notifications, programs } from '../src/db/schema/index.js';
import type { JobRequest } from '../src/domain/context.js';
import { resolveSettings } from '../src/domain/programs/settings.js';
import { fireFollowUpDue, fireOverdueSweep } from '../src/domain/reminders/fire.js';
import { overdueJobFor, overdueSweepJob, sweepAt } from '../src/domain/reminders/jobs.js';
import { jobIds } from '../src/queue/jobs.js';
import { enqueueRequests } from '../src/queue/requests.js';
import type { QueueSystem } from '../src/queue/system.js';
import { createTestApp, type TestApp, TestClock } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';

const MINUTE = 60_000;

describe('the overdue sweep: its bucket and its job', () => {
  const programId = '01900000-0000-7000-8000-000000000001';
  const settings = resolveSettings({ overdueGrace: 'PT10M' });
  const now = new Date('2026-12-03T09:00:00.000Z');

  it('covers one second: a sweep runs at the end of the second its follow-ups become overdue in', () => {
    expect(sweepAt(Date.parse('2026-12-03T09:15:00.250Z'))).toBe(Date.parse('2026-12-03T09:15:01.000Z'));
    expect(sweepAt(Date.parse('2026-12-03T09:15:00.000Z'))).toBe(Date.parse('2026-12-03T09:15:00.000Z'));
    expect(sweepAt(Date.parse('2026-12-03T09:14:59.999Z'))).toBe(Date.parse('2026-12-03T09:15:00.000Z'));
  });

  it('is one job per program and second, marked once, ids only in the payload', () => {
    const at = Date.parse('2026-12-03T09:15:01.000Z');
    const job = overdueSweepJob(programId, Date.parse('2026-12-03T09:15:00.250Z'), now);
    expect(job).toEqual({
      queue: 'reminders',
      name: 'follow-up-overdue-sweep',
      payload: { programId, at },
      jobId: jobIds.followUpOverdueSweep(programId, at),
      delayMs: at - now.getTime(),
      once: true,
    });
    expect(overdueSweepJob(programId, Date.parse('2026-12-03T09:15:00.900Z'), now).jobId).toBe(job.jobId);
    expect(overdueSweepJob('01900000-0000-7000-8000-000000000002', Date.parse('2026-12-03T09:15:00.250Z'), now).jobId).not.toBe(job.jobId);
    expect(job.jobId).not.toContain(':'); // BullMQ forbids it in custom ids
  });

  it("a follow-up fired in time joins its second's sweep; one fired late (its sweep ran, or is about to) gets its own job", () => {
    const f = { id: '01900000-0000-7000-8000-0000000000aa', version: 3, programId, dueAt: new Date('2026-12-03T08:55:00.250Z') };
    // Overdue at 09:05:00.250: five minutes ahead, the sweep.
    expect(overdueJobFor(f, settings, now)).toMatchObject({ name: 'follow-up-overdue-sweep', once: true });
    // The reminders lag: the due job runs at 09:05:00.500, past the sweep's second (or within the 1 s margin).
    for (const late of ['2026-12-03T09:05:00.500Z', '2026-12-03T09:05:00.100Z', '2026-12-03T09:10:00.000Z']) {
      const job = overdueJobFor(f, settings, new Date(late));
      expect(job).toMatchObject({
        name: 'follow-up-overdue',
        jobId: jobIds.followUpOverdue(f.id, 3),
        payload: { followUpId: f.id, version: 3 },
      });
      expect(job.once).toBeUndefined();
    }
  });
});

describe('enqueueRequests with jobs marked once', () => {
  const logger = pino({ level: 'silent' });
  const job = (id: string, delayMs: number): JobRequest => ({
    queue: 'reminders',
    name: 'follow-up-overdue-sweep',
    payload: { programId: '01900000-0000-7000-8000-000000000001', at: 1 },
    jobId: id,
    delayMs,
    once: true,
  });

  it('adds each once until its delay has passed; a failed add is tried again by the next request', async () => {
    const added: string[] = [];
    let failing = false;
    const queues = {
      enqueue: async (_q: string, _n: string, _p: unknown, opts: { jobId?: string }) => {
        if (failing) throw new Error('queue down');
        added.push(opts.jobId!);
      },
    } as unknown as Pick<QueueSystem, 'enqueue'>;
    const id = `once-${Math.random()}`;
    // A burst: fifty requests for the same sweep, at once and then one by one.
    await Promise.all(Array.from({ length: 25 }, () => enqueueRequests(queues, logger, [job(id, 60_000)])));
    for (let i = 0; i < 25; i++) await enqueueRequests(queues, logger, [job(id, 60_000)]);
    expect(added).toEqual([id]);

    // Failed: the next request adds it.
    const other = `once-${Math.random()}`;
    failing = true;
    await enqueueRequests(queues, logger, [job(other, 60_000)]);
    failing = false;
    await enqueueRequests(queues, logger, [job(other, 60_000)]);
    await enqueueRequests(queues, logger, [job(other, 60_000)]);
    expect(added).toEqual([id, other]);

    // Its time has passed: asked again, added again (the queue ignores it if it still holds it).
    const due = `once-${Math.random()}`;
    await enqueueRequests(queues, logger, [job(due, 0)]);
    await new Promise((r) => setTimeout(r, 5));
    await enqueueRequests(queues, logger, [job(due, 0)]);
    expect(added.filter((a) => a === due)).toHaveLength(2);
  });
});

describe('the overdue sweep, against the database', () => {
  let t: TestApp;
  let clock: TestClock;
  let a: { programId: string; lead: Who; sam: Who };
  let b: { programId: string; lead: Who; sam: Who };

  beforeAll(async () => {
    clock = new TestClock(new Date(Math.floor(Date.now() / MINUTE) * MINUTE));
    t = await createTestApp({ clock });
    const settings = { followUpAfter: 'PT1M', overdueGrace: 'PT10M' } as const;
    a = await cast(t, { lead: 'lead', sam: 'intervener' }, settings);
    b = await cast(t, { lead: 'lead', sam: 'intervener' }, settings);
  });
  afterAll(() => t.close());

  /** An outbound message now: its follow-up is due one minute later. */
  async function followUp(p: typeof a) {
    const c = await activeCase(t, p.lead, p.programId, p.sam.id);
    await ok(t, p.sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: clock.now().toISOString(),
    });
    const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
    return f!;
  }

  const status = async (id: string) => (await t.db.db.select().from(followUps).where(eq(followUps.id, id)))[0]!.status;
  const told = async (staffId: string, kind: 'follow_up_due' | 'follow_up_overdue', subjectId: string) =>
    (
      await t.db.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.staffId, staffId), eq(notifications.kind, kind), eq(notifications.subjectId, subjectId)))
    ).length;

  it('a burst of due reminders asks for one sweep; the sweep escalates each unfinished follow-up once, and only its program', async () => {
    const start = clock.now();
    const burst = [await followUp(a), await followUp(a), await followUp(a), await followUp(a)];
    const neverFired = await followUp(a); // its due job never ran (a queue outage)
    const otherProgram = await followUp(b);

    clock.advance(MINUTE + 1_000);
    const jobs: JobRequest[] = [];
    for (const f of [...burst, otherProgram]) {
      const fired = await fireFollowUpDue(t.db.db, clock, f.id, f.version);
      expect(fired.outcome).toBe('fired');
      jobs.push(...fired.jobs);
    }
    // One sweep per program and second, however many reminders fired into it (each asks for the
    // same job, which the queue layer adds once); no per-follow-up overdue job.
    const sweeps = jobs.filter((j) => j.name === 'follow-up-overdue-sweep');
    expect(jobs.filter((j) => j.name === 'follow-up-overdue')).toEqual([]);
    expect(sweeps).toHaveLength(5);
    expect(new Set(sweeps.map((j) => j.jobId)).size).toBe(2);
    expect(new Set(sweeps.map((j) => JSON.stringify(j.payload)))).toEqual(
      new Set([
        JSON.stringify({ programId: a.programId, at: start.getTime() + 11 * MINUTE }),
        JSON.stringify({ programId: b.programId, at: start.getTime() + 11 * MINUTE }),
      ]),
    );
    expect(sweeps.every((j) => j.once && j.delayMs === 10 * MINUTE - 1_000)).toBe(true);

    // One of the burst is done before its grace runs out: never escalated.
    await ok(t, a.sam, 'POST', `/v1/follow-ups/${burst[0]!.id}/complete`, {});

    // Before the grace has run out a sweep changes nothing.
    clock.advance(9 * MINUTE);
    expect((await fireOverdueSweep(t.db.db, clock, a.programId)).escalated).toBe(0);
    expect(await status(burst[1]!.id)).toBe('due');

    clock.current = new Date(start.getTime() + 11 * MINUTE);
    const swept = await fireOverdueSweep(t.db.db, clock, a.programId);
    expect(swept.escalated).toBe(4);
    expect(swept.outcome).toBe('fired');
    for (const f of [...burst.slice(1), neverFired]) {
      expect(await status(f.id)).toBe('overdue');
      expect(await told(a.lead.id, 'follow_up_overdue', f.id)).toBe(1);
      expect(await told(a.sam.id, 'follow_up_due', f.id)).toBe(1); // the one that never fired hears of it first
    }
    expect(await status(burst[0]!.id)).toBe('done');
    expect(await told(a.lead.id, 'follow_up_overdue', burst[0]!.id)).toBe(0);
    // B's follow-up waits for B's own sweep.
    expect(await status(otherProgram.id)).toBe('due');

    // Swept again (a second bucket, another process, a redelivery): nothing twice.
    const again = await fireOverdueSweep(t.db.db, clock, a.programId);
    expect(again).toMatchObject({ escalated: 0, outcome: 'stale' });
    for (const f of burst.slice(1)) expect(await told(a.lead.id, 'follow_up_overdue', f.id)).toBe(1);

    expect((await fireOverdueSweep(t.db.db, clock, b.programId)).escalated).toBe(1);
    expect(await told(b.lead.id, 'follow_up_overdue', otherProgram.id)).toBe(1);
    expect(await told(a.lead.id, 'follow_up_overdue', otherProgram.id)).toBe(0);
  });

  it("a sweep that finds its follow-ups' grace raised since they fired asks for the sweep of their new time", async () => {
    const start = clock.now();
    const f = await followUp(a);
    clock.advance(MINUTE);
    expect((await fireFollowUpDue(t.db.db, clock, f.id, f.version)).outcome).toBe('fired');
    await t.db.db
      .update(programs)
      .set({ settings: { followUpAfter: 'PT1M', overdueGrace: 'PT20M' } })
      .where(eq(programs.id, a.programId));
    clock.current = new Date(start.getTime() + 11 * MINUTE); // the old grace's time
    const swept = await fireOverdueSweep(t.db.db, clock, a.programId);
    expect(swept.escalated).toBe(0);
    expect(await status(f.id)).toBe('due');
    const next = start.getTime() + 21 * MINUTE;
    expect(swept.jobs).toEqual([
      expect.objectContaining({ name: 'follow-up-overdue-sweep', payload: { programId: a.programId, at: next } }),
    ]);
    clock.current = new Date(next);
    expect((await fireOverdueSweep(t.db.db, clock, a.programId)).escalated).toBe(1);
    expect(await told(a.lead.id, 'follow_up_overdue', f.id)).toBe(1);
    await t.db.db
      .update(programs)
      .set({ settings: { followUpAfter: 'PT1M', overdueGrace: 'PT10M' } })
      .where(eq(programs.id, a.programId));
  });

  it('a sweep that reaches its cap escalates that many and asks for the next sweep a second later, which does the rest', async () => {
    const start = clock.now();
    const made = await Promise.all([1, 2, 3].map(() => followUp(a)));
    clock.current = new Date(start.getTime() + 12 * MINUTE);
    const first = await fireOverdueSweep(t.db.db, clock, a.programId, { batch: 2, passes: 1 });
    expect(first.escalated).toBe(2);
    expect(first.jobs.filter((j) => j.name === 'follow-up-overdue-sweep')).toEqual([
      expect.objectContaining({ payload: { programId: a.programId, at: clock.now().getTime() + 1_000 }, delayMs: 1_000 }),
    ]);
    clock.advance(1_000);
    const second = await fireOverdueSweep(t.db.db, clock, a.programId, { batch: 2, passes: 1 });
    expect(second.escalated).toBe(1);
    expect(second.jobs.filter((j) => j.name === 'follow-up-overdue-sweep')).toEqual([]);
    for (const f of made) expect(await told(a.lead.id, 'follow_up_overdue', f.id)).toBe(1);
  });

  it('two sweeps of one program at once escalate each follow-up once', async () => {
    const start = clock.now();
    const made = await Promise.all([1, 2, 3, 4, 5, 6].map(() => followUp(a)));
    clock.current = new Date(start.getTime() + 12 * MINUTE);
    const [x, y] = await Promise.all([fireOverdueSweep(t.db.db, clock, a.programId), fireOverdueSweep(t.db.db, clock, a.programId)]);
    expect(x.escalated + y.escalated).toBe(6);
    for (const f of made) expect(await told(a.lead.id, 'follow_up_overdue', f.id)).toBe(1);
  });

  it('a sweep for a program that does not exist does nothing', async () => {
    expect(await fireOverdueSweep(t.db.db, clock, '01900000-0000-7000-8000-0000000000ff')).toMatchObject({ escalated: 0, jobs: [] });
  });
});

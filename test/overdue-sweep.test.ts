import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followUps, notifications } from '../src/db/schema/index.js';
import type { JobRequest } from '../src/domain/context.js';
import { resolveSettings } from '../src/domain/programs/settings.js';
import { fireFollowUpDue, fireOverdueSweep } from '../src/domain/reminders/fire.js';
import { overdueSweepJob, sweepWidthMs } from '../src/domain/reminders/jobs.js';
import { jobIds } from '../src/queue/jobs.js';
import { createTestApp, type TestApp, TestClock } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';

const MINUTE = 60_000;

describe('the overdue sweep: its bucket', () => {
  it('is a tenth of the grace, between 1 s and 60 s', () => {
    expect(sweepWidthMs(1_000)).toBe(1_000); // PT1S: 100 ms, raised to 1 s
    expect(sweepWidthMs(10_000)).toBe(1_000);
    expect(sweepWidthMs(300_000)).toBe(30_000); // PT5M
    expect(sweepWidthMs(86_400_000)).toBe(60_000); // PT24H, the default
  });

  it('ends at the first bucket boundary at or after dueAt + overdueGrace, per program', () => {
    const settings = resolveSettings({ overdueGrace: 'PT10M' });
    const programId = '01900000-0000-7000-8000-000000000001';
    const now = new Date('2026-12-03T09:00:00.000Z');
    const dueAt = new Date('2026-12-03T09:05:00.250Z'); // + 10 min = 09:15:00.250, so the 09:16:00 boundary
    const job = overdueSweepJob({ programId, dueAt }, settings, now);
    const at = Date.parse('2026-12-03T09:16:00.000Z');
    expect(job).toEqual({
      queue: 'reminders',
      name: 'follow-up-overdue-sweep',
      payload: { programId, at },
      jobId: jobIds.followUpOverdueSweep(programId, at),
      delayMs: at - now.getTime(),
    });
    // Due on the boundary itself: that boundary, not the next.
    const onBoundary = overdueSweepJob({ programId, dueAt: new Date('2026-12-03T09:05:00.000Z') }, settings, now);
    expect(onBoundary.payload).toEqual({ programId, at: Date.parse('2026-12-03T09:15:00.000Z') });
    // Another program, same moment: its own sweep.
    const other = overdueSweepJob({ programId: '01900000-0000-7000-8000-000000000002', dueAt }, settings, now);
    expect(other.jobId).not.toBe(job.jobId);
    expect(job.jobId).not.toContain(':'); // BullMQ forbids it in custom ids
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
    // One sweep per program and bucket, however many reminders fired into it; no per-follow-up overdue job.
    const sweeps = jobs.filter((j) => j.name === 'follow-up-overdue-sweep');
    expect(jobs.filter((j) => j.name === 'follow-up-overdue')).toEqual([]);
    expect(sweeps.map((j) => j.payload)).toEqual([
      { programId: a.programId, at: start.getTime() + 11 * MINUTE },
      { programId: b.programId, at: start.getTime() + 11 * MINUTE },
    ]);
    expect(sweeps[0]!.delayMs).toBe(10 * MINUTE - 1_000);

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

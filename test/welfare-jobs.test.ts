import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debriefs, staff } from '../src/db/schema/index.js';
import { dedupeKey } from '../src/domain/notifications/rules.js';
import { resolveSettings } from '../src/domain/programs/settings.js';
import { reconcile } from '../src/domain/reminders/scan.js';
import { debriefOverdueJob } from '../src/domain/welfare/jobs.js';
import { parsePeriod, periodAt } from '../src/domain/welfare/period.js';
import { fireDebriefOverdue, lastEndedPeriod, scanSupervision } from '../src/domain/welfare/scan.js';
import { JOBS, jobIds } from '../src/queue/jobs.js';
import { createQueueSystem } from '../src/queue/system.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';
import { backends, inbox, sleep, workersFor } from './helpers/workers.js';

// API.md, "Intervener welfare": overdue debriefs notify the leads once; a supervision shortfall
// over a `supervisionEvery` period notifies the intervener and the leads once per period.

const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();

describe('welfare job building', () => {
  it('the overdue job is a reminder due at dueAt, keyed by the debrief, with a payload the job map accepts', () => {
    const now = new Date('2026-12-01T09:00:00Z');
    const debriefId = '0190a3b4-0000-7000-8000-000000000001';
    const job = debriefOverdueJob({ id: debriefId, dueAt: new Date('2026-12-03T09:00:00Z') }, now);
    expect(job).toEqual({
      queue: 'reminders',
      name: 'debrief-overdue',
      payload: { debriefId },
      jobId: `debrief-overdue-${debriefId}`,
      delayMs: 48 * 3_600_000,
    });
    expect(JOBS.reminders['debrief-overdue'].safeParse(job.payload).success).toBe(true);
    // Ids only: BullMQ keeps payloads in clear text.
    expect(JOBS.reminders['debrief-overdue'].safeParse({ debriefId, note: 'rough week' }).success).toBe(false);
  });

  it('the last ended period is the one before the period holding now, on fixed boundaries', () => {
    // P1M: calendar months. 2026-03-15 → February 2026.
    expect(lastEndedPeriod(resolveSettings({ supervisionEvery: 'P1M' }), new Date('2026-03-15T12:00:00Z'))).toEqual({
      start: new Date('2026-02-01T00:00:00Z'),
      end: new Date('2026-03-01T00:00:00Z'),
    });
    // P3M: calendar quarters, so in May the last ended is January–March.
    expect(lastEndedPeriod(resolveSettings({ supervisionEvery: 'P3M' }), new Date('2026-05-02T00:00:00Z'))).toEqual({
      start: new Date('2026-01-01T00:00:00Z'),
      end: new Date('2026-04-01T00:00:00Z'),
    });
    // P1W: ISO weeks (Monday 00:00 UTC). Wednesday 2026-03-11 → the week of Monday 2026-03-02.
    expect(lastEndedPeriod(resolveSettings({ supervisionEvery: 'P1W' }), new Date('2026-03-11T08:00:00Z'))).toEqual({
      start: new Date('2026-03-02T00:00:00Z'),
      end: new Date('2026-03-09T00:00:00Z'),
    });
    // Exactly at a boundary the period just begun holds now: the one that ended is the one before.
    expect(lastEndedPeriod(resolveSettings({ supervisionEvery: 'P1W' }), new Date('2026-03-09T00:00:00Z'))).toEqual({
      start: new Date('2026-03-02T00:00:00Z'),
      end: new Date('2026-03-09T00:00:00Z'),
    });
  });
});

describe.each(backends)('welfare jobs on $backend', ({ redisUrl }) => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let lead2: Who;
  let sam: Who;

  beforeAll(async () => {
    t = await createTestApp({ redisUrl });
    ({ programId, lead, lead2, sam } = await cast(t, { lead: 'lead', lead2: 'lead', sam: 'intervener' }, { debriefWithin: 'PT2S' }));
  });
  afterAll(() => t.close());

  /** A hostile message on a case of `who`: it owes them a debrief, due debriefWithin later. */
  async function owedDebrief(l: Who, p: string, who: Who) {
    const c = await activeCase(t, l, p, who.id);
    const tp = await ok<{ id: string }>(t, who, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'comment',
      occurredAt: iso(0),
      sentiment: 'hostile',
    });
    const rows = await t.db.db.select().from(debriefs).where(eq(debriefs.sourceId, tp.id));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }
  const overdueOf = async (staffId: string, debriefId: string) =>
    (await inbox(t, staffId, 'debrief_overdue')).filter((n) => n.subjectId === debriefId);

  it('a debrief still pending at dueAt tells each lead once, by its delayed job alone; replays add nothing', async () => {
    const w = await workersFor(t);
    try {
      const d = await owedDebrief(lead, programId, sam);
      expect((await inbox(t, lead.id, 'debrief_due')).filter((n) => n.subjectId === d.id)).toHaveLength(1);
      expect(await overdueOf(lead.id, d.id)).toHaveLength(0);
      // Schedulers are off in tests: only the delayed job can fire it.
      await expect.poll(async () => (await overdueOf(lead.id, d.id)).length, { timeout: 15_000 }).toBe(1);
      await expect.poll(async () => (await overdueOf(lead2.id, d.id)).length, { timeout: 5_000 }).toBe(1);
      const [n] = await overdueOf(lead.id, d.id);
      expect(n!.createdAt.getTime()).toBeGreaterThanOrEqual(d.dueAt.getTime());
      expect(n).toMatchObject({ programId, caseId: d.caseId, subjectId: d.id });
      // The intervener is told a debrief is due, never that it is overdue: that is the leads' matter.
      expect(await inbox(t, sam.id, 'debrief_overdue')).toHaveLength(0);
      const [row] = await t.db.db.select().from(debriefs).where(eq(debriefs.id, d.id));
      expect(row!.overdueNotifiedAt).toBeInstanceOf(Date);
      expect(row!.status).toBe('pending');

      // The job delivered again (three at once), the reconcile, and the job once more: nothing new.
      const replays = await Promise.all([1, 2, 3].map(() => fireDebriefOverdue(t.db.db, t.clock, d.id)));
      expect(replays.map((r) => r.outcome)).toEqual(['stale', 'stale', 'stale']);
      await reconcile(t.db.db, t.clock);
      await t.queues.enqueue('reminders', 'debrief-overdue', { debriefId: d.id }, { jobId: `replay-${d.id}` });
      await sleep(1_000);
      expect(await overdueOf(lead.id, d.id)).toHaveLength(1);
      expect(await overdueOf(lead2.id, d.id)).toHaveLength(1);
      expect(await inbox(t, sam.id, 'debrief_overdue')).toHaveLength(0);
    } finally {
      await w.close(5_000);
    }
  });

  it('a debrief a lead completes before dueAt is never overdue', async () => {
    const w = await workersFor(t);
    try {
      const d = await owedDebrief(lead, programId, sam);
      const done = await ok<{ status: string; doneBy: string }>(t, lead, 'POST', `/v1/debriefs/${d.id}/complete`, {
        note: 'talked it through',
      });
      expect(done).toMatchObject({ status: 'done', doneBy: lead.id });
      // Past dueAt and its job by 1.5 s; then the safety net and a late replay as well.
      await sleep(Math.max(0, d.dueAt.getTime() + 1_500 - Date.now()));
      await reconcile(t.db.db, t.clock);
      expect((await fireDebriefOverdue(t.db.db, t.clock, d.id)).outcome).toBe('stale');
      expect(await overdueOf(lead.id, d.id)).toHaveLength(0);
      expect(await overdueOf(lead2.id, d.id)).toHaveLength(0);
      const [row] = await t.db.db.select().from(debriefs).where(eq(debriefs.id, d.id));
      expect(row!.overdueNotifiedAt).toBeNull();
    } finally {
      await w.close(5_000);
    }
  });

  it('a debrief whose delayed job vanished is caught by the reconcile, once, even when two reconcile at once', async () => {
    const d = await owedDebrief(lead, programId, sam);
    const jobId = jobIds.debriefOverdue(d.id);
    expect(await t.queues.queue('reminders').getJob(jobId)).toBeTruthy();
    await t.queues.queue('reminders').remove(jobId);
    expect(await t.queues.queue('reminders').getJob(jobId)).toBeFalsy();
    // Not due yet: the reconcile leaves it alone.
    expect((await reconcile(t.db.db, t.clock)).debriefsOverdue).toBe(0);
    expect(await overdueOf(lead.id, d.id)).toHaveLength(0);
    await sleep(Math.max(0, d.dueAt.getTime() + 100 - Date.now()));
    const [a, b] = await Promise.all([reconcile(t.db.db, t.clock), reconcile(t.db.db, t.clock)]);
    expect(a!.debriefsOverdue + b!.debriefsOverdue).toBe(1);
    expect(await overdueOf(lead.id, d.id)).toHaveLength(1);
    expect(await overdueOf(lead2.id, d.id)).toHaveLength(1);
    expect((await reconcile(t.db.db, t.clock)).debriefsOverdue).toBe(0);
    expect((await fireDebriefOverdue(t.db.db, t.clock, d.id)).outcome).toBe('stale');
    expect(await overdueOf(lead.id, d.id)).toHaveLength(1);
  });

  it('an overdue job that arrives early changes nothing and asks to be run again at dueAt', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' }, { debriefWithin: 'PT1H' });
    const d = await owedDebrief(l, p, i);
    const result = await fireDebriefOverdue(t.db.db, t.clock, d.id);
    expect(result.outcome).toBe('early');
    expect(result.jobs).toEqual([expect.objectContaining({ name: 'debrief-overdue', jobId: jobIds.debriefOverdue(d.id) })]);
    const delay = (result.jobs[0] as { delayMs: number }).delayMs;
    expect(delay).toBeGreaterThan(3_500_000);
    expect(delay).toBeLessThanOrEqual(3_600_000);
    expect(await overdueOf(l.id, d.id)).toHaveLength(0);
    const [row] = await t.db.db.select().from(debriefs).where(eq(debriefs.id, d.id));
    expect(row!.overdueNotifiedAt).toBeNull();
  });

  it('two worker processes on one database and queue tell the leads of each overdue debrief once', async () => {
    const second = createQueueSystem({ redisUrl, databaseUrl: t.db.url, namespace: t.namespace, logger: pino({ level: 'silent' }) });
    const a = await workersFor(t);
    const b = await workersFor(t, { queues: second });
    try {
      const made = await Promise.all([1, 2, 3, 4].map(() => owedDebrief(lead, programId, sam)));
      await sleep(Math.max(0, Math.max(...made.map((d) => d.dueAt.getTime())) + 50 - Date.now()));
      // Both also reconcile at once, racing the delayed jobs.
      await Promise.all([reconcile(t.db.db, t.clock), reconcile(t.db.db, t.clock)]);
      for (const d of made) {
        await expect.poll(async () => (await overdueOf(lead.id, d.id)).length, { timeout: 10_000 }).toBe(1);
        await expect.poll(async () => (await overdueOf(lead2.id, d.id)).length, { timeout: 5_000 }).toBe(1);
      }
      await sleep(500);
      for (const d of made) {
        expect(await overdueOf(lead.id, d.id)).toHaveLength(1);
        expect(await overdueOf(lead2.id, d.id)).toHaveLength(1);
      }
    } finally {
      await a.close(5_000);
      await b.close(5_000);
      await second.close();
    }
  });

  describe('supervision', () => {
    const EVERY = 'PT3S';
    const period = parsePeriod(EVERY)!;
    /** supervision_due notifications of `staffId`'s inbox about `subjectId` for the period starting `start`. */
    const dueFor = async (staffId: string, subjectId: string, start: Date) => {
      const key = dedupeKey('supervision_due', `${subjectId}/${start.toISOString()}`, staffId);
      return (await inbox(t, staffId, 'supervision_due')).filter((n) => n.subjectId === subjectId && n.dedupeKey === key);
    };

    it('short in the period that ended: the intervener and each lead hear once; enough minutes, nobody; a cover never', async () => {
      const { programId: p, ...who } = await cast(
        t,
        { l1: 'lead', l2: 'lead', short: 'intervener', enough: 'intervener', away: 'intervener', cover: 'intervener' },
        { supervisionEvery: EVERY, supervisionMinMinutes: 30 },
      );
      const { l1, l2, short, enough, away, cover } = who;
      // The absent colleague's notifications go to their cover, except the ones about themself.
      await ok(t, l1, 'POST', `/v1/staff/${away.id}/absences`, {
        from: iso(-60_000),
        to: iso(3_600_000),
        coverId: cover.id,
        reason: 'leave',
      });
      // Enough: 20 + 10 minutes in one period (the minimum is 30, inclusive).
      const at = new Date();
      const held = periodAt(period, at);
      await ok(t, l1, 'POST', `/v1/staff/${enough.id}/supervision-sessions`, { at: at.toISOString(), minutes: 20, format: 'individual' });
      await ok(t, l2, 'POST', `/v1/staff/${enough.id}/supervision-sessions`, { at: at.toISOString(), minutes: 10, format: 'group' });
      // Short: 29 minutes in the same period.
      await ok(t, l1, 'POST', `/v1/staff/${short.id}/supervision-sessions`, { at: at.toISOString(), minutes: 29, format: 'peer' });
      await sleep(Math.max(0, held.end.getTime() + 100 - Date.now()));

      const admin = await t.staff('admin', null);
      const w = await workersFor(t);
      try {
        // The scheduled job, run now through the admin route (on this backend's queue).
        const run = await ok<{ name: string; state: string; result: { notified: number; failedPrograms: string[] } }>(
          t,
          admin,
          'POST',
          '/v1/admin/jobs/supervision-scan/run?wait=true',
          {},
        );
        expect(run).toMatchObject({ name: 'supervision-scan', state: 'completed' });
        expect(run.result.failedPrograms).toEqual([]);
        // short, away and cover; enough had its minutes, and nobody else here works in periods this short.
        expect(run.result.notified).toBe(3);
        // The scan, again and twice at once.
        await scanSupervision(t.db.db, t.clock);
        await Promise.all([scanSupervision(t.db.db, t.clock), scanSupervision(t.db.db, t.clock)]);
      } finally {
        await w.close(5_000);
      }
      expect(Date.now(), 'the scans ran while the period was the last one ended').toBeLessThan(held.end.getTime() + 3_000);

      for (const s of [short, away, cover]) {
        expect(await dueFor(s.id, s.id, held.start), 'the intervener themself').toHaveLength(1);
        for (const l of [l1, l2]) expect(await dueFor(l.id, s.id, held.start), 'each lead').toHaveLength(1);
      }
      const [mine] = await dueFor(short.id, short.id, held.start);
      expect(mine).toMatchObject({ programId: p, caseId: null, subjectId: short.id });
      // Enough minutes: nobody hears of it.
      for (const s of [enough, l1, l2]) expect(await dueFor(s.id, enough.id, held.start)).toHaveLength(0);
      // Personal: the cover hears of their own supervision, never of the absent colleague's.
      expect((await inbox(t, cover.id, 'supervision_due')).filter((n) => n.subjectId === away.id)).toHaveLength(0);
      // Interveners hear of nobody else's supervision.
      expect((await inbox(t, short.id, 'supervision_due')).filter((n) => n.subjectId !== short.id)).toHaveLength(0);
    });

    it('a new starter is not short in a period that ended before they joined, and is in the first that ends after', async () => {
      const { l, newcomer } = await cast(t, { l: 'lead', newcomer: 'intervener' }, { supervisionEvery: 'P1M', supervisionMinMinutes: 30 });
      const [row] = await t.db.db.select({ createdAt: staff.createdAt }).from(staff).where(eq(staff.id, newcomer.id));
      const joined = periodAt(parsePeriod('P1M')!, row!.createdAt);
      // Late in the month they joined: the month that ended last (the one before) is not theirs.
      await scanSupervision(t.db.db, { now: () => new Date(joined.end.getTime() - 1) });
      expect(await inbox(t, newcomer.id, 'supervision_due')).toHaveLength(0);
      expect((await inbox(t, l.id, 'supervision_due')).filter((n) => n.subjectId === newcomer.id)).toHaveLength(0);
      // Early the next month: the month they joined in ended after they joined, without supervision.
      await scanSupervision(t.db.db, { now: () => new Date(joined.end.getTime() + 1) });
      expect(await dueFor(newcomer.id, newcomer.id, joined.start)).toHaveLength(1);
      expect(await dueFor(l.id, newcomer.id, joined.start)).toHaveLength(1);
      expect(await inbox(t, newcomer.id, 'supervision_due')).toHaveLength(1);
    });
  });
});

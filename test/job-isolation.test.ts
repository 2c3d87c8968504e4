import { Writable } from 'node:stream';
import { and, eq, inArray, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, followUps, jobRuns, notifications, rollupDirty } from '../src/db/schema/index.js';
import { noContactScan, reconcile, retention, rollup } from '../workers/processors/maintenance.js';
import type { WorkerDeps } from '../workers/types.js';
import type { ProgramSettings } from '../src/domain/programs/settings.js';
import { createTestApp, TEST_SECRET, TestClock, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, flagBody, ok } from './helpers/story.js';

type LogLine = Record<string, unknown> & { msg: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Short, valid settings: everything of program B (and, before it is broken, of A) happens within minutes. */
const SHORT: Partial<ProgramSettings> = {
  followUpAfter: 'PT1M',
  overdueGrace: 'PT1M',
  noContactAlertAfter: 'PT1H',
  responseSla: 'PT1M',
  safeguardingAckWithin: 'PT1M',
  retentionNeverContacted: 'P1D',
  retentionClosed: 'P1D',
  minCellSize: 1,
};

/** What a stored row may hold after rules tightened or a hand edit: too long, too short, not a string, not a duration. */
const BROKEN: Record<string, unknown> = {
  followUpAfter: 'P999999999W',
  overdueGrace: 5,
  responseSla: { $gt: '' },
  safeguardingAckWithin: 'PT0.001S',
  retentionNeverContacted: 'P999999999W',
  retentionClosed: null,
  minCellSize: 'many',
  requireApproval: 'soon',
};

let t: TestApp;
let clock: TestClock;
let deps: WorkerDeps;
const logs: LogLine[] = [];

interface Program {
  id: string;
  lead: Who;
  sam: Who;
}

async function program(settings: Partial<ProgramSettings>): Promise<Program> {
  const { programId: id, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, settings);
  return { id, lead, sam };
}

/** An active case held by the program's intervener, with an outbound message now (its follow-up follows). */
async function contacted(p: Program) {
  const c = await activeCase(t, p.lead, p.id, p.sam.id);
  await ok(t, p.sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
    direction: 'outbound',
    channel: 'direct_message',
    occurredAt: clock.now().toISOString(),
  });
  const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
  return { caseId: c.id, followUpId: f!.id };
}

/** A case flagged now and never contacted: retentionNeverContacted applies. */
async function flagged(p: Program) {
  return (await ok<{ id: string }>(t, p.lead, 'POST', '/v1/cases', flagBody(p.id))).id;
}

const status = async (followUpId: string) => (await t.db.db.select().from(followUps).where(eq(followUps.id, followUpId)))[0]!.status;
const erased = async (caseId: string) => (await t.db.db.select().from(cases).where(eq(cases.id, caseId)))[0]!.erasedAt !== null;
const notified = async (staffId: string, kind: string, subjectId: string) =>
  (
    await t.db.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.staffId, staffId), eq(notifications.kind, kind as never), eq(notifications.subjectId, subjectId)))
  ).length;

/** Runs every scheduled job that loops over programs, as the worker does: none may throw. */
async function runJobs() {
  const none = {} as never;
  await reconcile(none, deps, none);
  await noContactScan(none, deps, none);
  await retention(none, deps, none);
  await rollup(none, deps, none);
}

async function lastRun(name: string) {
  const [r] = await t.db.db.select().from(jobRuns).where(eq(jobRuns.name, name));
  return r!;
}

beforeAll(async () => {
  clock = new TestClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  t = await createTestApp({ clock });
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  deps = { db: t.db.db, queues: t.queues, clock, logger: pino({ level: 'info' }, sink), secret: TEST_SECRET };
});
afterAll(() => t.close());

describe('a program whose stored settings no longer validate', () => {
  // A keeps its valid keys (noContactAlertAfter PT1H) and gets the default for each broken one.
  let a: Program;
  let b: Program;
  let c: Program;
  let start: Date;
  let caseA: { caseId: string; followUpId: string };
  let caseB: { caseId: string; followUpId: string };
  let caseC: { caseId: string; followUpId: string };
  let flaggedA: string;
  let flaggedB: string;
  let concernA: string;

  beforeAll(async () => {
    start = clock.now();
    a = await program(SHORT);
    b = await program(SHORT);
    c = await program(SHORT);
    caseA = await contacted(a);
    caseB = await contacted(b);
    caseC = await contacted(c);
    flaggedA = await flagged(a);
    flaggedB = await flagged(b);
    concernA = (
      await ok<{ id: string }>(t, a.lead, 'POST', `/v1/cases/${caseA.caseId}/safeguarding`, {
        severity: 'high',
        concern: 'said something worrying',
      })
    ).id;
    await t.db.db.execute(sql`update programs set settings = settings || ${JSON.stringify(BROKEN)}::jsonb where id = ${a.id}`);
    // Not even an object: every key falls back.
    await t.db.db.execute(sql`update programs set settings = '"garbage"'::jsonb where id = ${c.id}`);
  });

  it('its caseload, an outbound touchpoint, the program and its report answer 2xx, with the defaults in force', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/caseload', headers: a.sam.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((i: { id: string }) => i.id)).toContain(caseA.caseId);

    const other = await activeCase(t, a.lead, a.id, a.sam.id);
    const at = clock.now();
    const touch = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${other.id}/touchpoints`,
      headers: a.sam.auth,
      payload: { direction: 'outbound', channel: 'direct_message', occurredAt: at.toISOString(), costCents: 100 },
    });
    expect(touch.statusCode).toBe(201);
    const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, other.id));
    // followUpAfter: the default P3D, not P999999999W.
    expect(f!.dueAt.getTime()).toBe(at.getTime() + 3 * DAY);

    const inbound = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${other.id}/touchpoints`,
      headers: a.sam.auth,
      payload: { direction: 'inbound', channel: 'direct_message', occurredAt: at.toISOString() },
    });
    expect(inbound.statusCode).toBe(201);

    const p = await t.app.inject({ method: 'GET', url: `/v1/programs/${a.id}`, headers: a.lead.auth });
    expect(p.statusCode).toBe(200);
    expect(p.json().settings).toMatchObject({
      followUpAfter: 'P3D',
      overdueGrace: 'PT24H',
      responseSla: 'PT24H',
      safeguardingAckWithin: 'PT1H',
      retentionNeverContacted: 'P90D',
      retentionClosed: 'P365D',
      minCellSize: 5,
      requireApproval: true,
      noContactAlertAfter: 'PT1H',
    });
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const report = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/engagement?programId=${a.id}&from=${day(new Date(start.getTime() - DAY))}&to=${day(new Date(start.getTime() + DAY))}`,
      headers: a.lead.auth,
    });
    expect(report.statusCode).toBe(200);
    expect(report.json().definition.minCellSize).toBe(5);
    const cProgram = await t.app.inject({ method: 'GET', url: `/v1/programs/${c.id}`, headers: c.lead.auth });
    expect(cProgram.statusCode).toBe(200);
    expect(cProgram.json().settings.followUpAfter).toBe('P3D');
  });

  it("the jobs run every program: B's reminders fire on time, A's with its defaults, and A is logged by id", async () => {
    clock.current = new Date(start.getTime() + 2 * MINUTE);
    logs.length = 0;
    await runJobs();
    // B: due and overdue (grace PT1M), both told.
    expect(await status(caseB.followUpId)).toBe('overdue');
    expect(await notified(b.sam.id, 'follow_up_due', caseB.followUpId)).toBe(1);
    expect(await notified(b.lead.id, 'follow_up_overdue', caseB.followUpId)).toBe(1);
    // A: due at PT1M (set before the settings broke), overdue only after the default PT24H grace.
    expect(await status(caseA.followUpId)).toBe('due');
    expect(await notified(a.sam.id, 'follow_up_due', caseA.followUpId)).toBe(1);
    // The default PT1H, not PT0.001S: no escalation yet.
    expect(await notified(a.lead.id, 'safeguarding_unacknowledged', concernA)).toBe(0);
    expect(await status(caseC.followUpId)).toBe('due');

    for (const name of ['reconcile', 'no-contact-scan', 'retention']) {
      const run = await lastRun(name);
      expect(run.lastStatus).toBe('ok');
      expect(run.lastResult).toMatchObject({ failedPrograms: [] });
      const lines = logs.filter((l) => l['job'] === name && l['programId'] === a.id);
      expect(lines).toHaveLength(1);
      expect((lines[0]!['keys'] as string[]).sort()).toEqual(Object.keys(BROKEN).sort());
      expect(logs.some((l) => l['job'] === name && l['programId'] === c.id)).toBe(true);
    }
    expect(logs.some((l) => l['programId'] === b.id)).toBe(false);
    // The stored values themselves are never logged.
    const text = JSON.stringify(logs);
    for (const v of ['P999999999W', 'PT0.001S', '$gt', 'many', 'soon', 'garbage']) expect(text).not.toContain(v);
  });

  it("a day later: A's follow-up is overdue and its concern escalates once; no-contact and retention run for both", async () => {
    clock.current = new Date(start.getTime() + 25 * HOUR);
    await runJobs();
    expect(await status(caseA.followUpId)).toBe('overdue');
    expect(await notified(a.lead.id, 'follow_up_overdue', caseA.followUpId)).toBe(1);
    expect(await notified(a.lead.id, 'safeguarding_unacknowledged', concernA)).toBe(1);
    // noContactAlertAfter PT1H was valid in A and is kept.
    expect(await notified(b.sam.id, 'no_contact', caseB.caseId)).toBe(1);
    expect(await notified(a.sam.id, 'no_contact', caseA.caseId)).toBe(1);
    // B's P1D retention applied; A's never-contacted case waits for the default P90D.
    expect(await erased(flaggedB)).toBe(true);
    expect(await erased(flaggedA)).toBe(false);
    for (const name of ['reconcile', 'no-contact-scan', 'retention', 'rollup']) expect((await lastRun(name)).lastStatus).toBe('ok');
  });
});

describe('a program whose part of a job fails', () => {
  // Every write to F's rows is refused by the database: its part fails, is logged, and is skipped.
  let f: Program;
  let b: Program;

  it('is logged by program id with the error, and every other program still gets its reminders, alerts, retention and rollup', async () => {
    const start = clock.now();
    f = await program(SHORT);
    b = await program(SHORT);
    const caseF = await contacted(f);
    const caseB = await contacted(b);
    const flaggedF = await flagged(f);
    const flaggedB = await flagged(b);
    await t.db.db.execute(
      sql.raw(`
      create function test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by a test trigger'; end $$;
      create trigger test_refuse_follow_ups before update on follow_ups for each row when (old.program_id = '${f.id}') execute function test_refuse();
      create trigger test_refuse_cases before update on cases for each row when (old.program_id = '${f.id}') execute function test_refuse();
      create trigger test_refuse_rollup before insert on rollup_contrib for each row when (new.program_id = '${f.id}') execute function test_refuse();`),
    );
    try {
      clock.current = new Date(start.getTime() + 2 * DAY);
      logs.length = 0;
      await runJobs();

      expect(await status(caseB.followUpId)).toBe('overdue');
      expect(await notified(b.sam.id, 'follow_up_due', caseB.followUpId)).toBe(1);
      expect(await notified(b.lead.id, 'follow_up_overdue', caseB.followUpId)).toBe(1);
      expect(await notified(b.sam.id, 'no_contact', caseB.caseId)).toBe(1);
      expect(await erased(flaggedB)).toBe(true);
      expect(await t.db.db.select().from(rollupDirty).where(eq(rollupDirty.programId, b.id))).toEqual([]);

      expect(await status(caseF.followUpId)).toBe('pending');
      expect(await notified(f.sam.id, 'no_contact', caseF.caseId)).toBe(0);
      expect(await erased(flaggedF)).toBe(false);
      expect((await t.db.db.select().from(rollupDirty).where(eq(rollupDirty.programId, f.id))).length).toBeGreaterThan(0);

      for (const name of ['reconcile', 'no-contact-scan', 'retention', 'rollup']) {
        const run = await lastRun(name);
        expect(run.lastStatus, name).toBe('ok');
        expect(run.lastResult, name).toMatchObject({ failedPrograms: [f.id] });
        const lines = logs.filter((l) => l['job'] === name && l['programId'] === f.id && l['level'] === 40 && l['err']);
        expect(lines, name).toHaveLength(1);
        expect(
          logs.some((l) => l['job'] === name && l['programId'] === b.id),
          name,
        ).toBe(false);
      }
    } finally {
      await t.db.db.execute(
        sql.raw(`
        drop trigger test_refuse_follow_ups on follow_ups;
        drop trigger test_refuse_cases on cases;
        drop trigger test_refuse_rollup on rollup_contrib;
        drop function test_refuse();`),
      );
    }

    // Once the cause is gone, the next run catches F up.
    await runJobs();
    expect(await status(caseF.followUpId)).toBe('overdue');
    expect(await notified(f.sam.id, 'no_contact', caseF.caseId)).toBe(1);
    expect(await erased(flaggedF)).toBe(true);
    expect(
      await t.db.db
        .select()
        .from(rollupDirty)
        .where(inArray(rollupDirty.programId, [f.id, b.id])),
    ).toEqual([]);
    expect((await lastRun('reconcile')).lastResult).toMatchObject({ failedPrograms: [] });
  });
});

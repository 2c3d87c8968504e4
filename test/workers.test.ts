import { createServer, type IncomingMessage } from 'node:http';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, followUps, notifications, programs } from '../src/db/schema/index.js';
import { notify } from '../src/domain/notifications/notify.js';
import { signature } from '../src/domain/notifications/webhook.js';
import { fireFollowUpDue } from '../src/domain/reminders/fire.js';
import { reconcile, scanNoContact } from '../src/domain/reminders/scan.js';
import { jobIds } from '../src/queue/jobs.js';
import { createQueueSystem } from '../src/queue/system.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';
import { backends, inbox, sleep, workersFor } from './helpers/workers.js';

const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();

describe.each(backends)('workers on $backend', ({ redisUrl }) => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let sam: Who;

  beforeAll(async () => {
    t = await createTestApp({ redisUrl });
    ({ programId, lead, sam } = await cast(
      t,
      { lead: 'lead', sam: 'intervener' },
      { followUpAfter: 'PT1S', overdueGrace: 'PT1S', responseSla: 'PT1S', noContactAlertAfter: 'PT1S' },
    ));
  });
  afterAll(() => t.close());

  /** An outbound message: its automatic follow-up is due followUpAfter (1 s) later. */
  async function caseWithFollowUp() {
    const c = await activeCase(t, lead, programId, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'direct_message', occurredAt: iso(0) });
    const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
    return { caseId: c.id, followUp: f! };
  }

  it('a follow-up fires due and then overdue, once each and in order', async () => {
    const w = await workersFor(t);
    try {
      const { followUp } = await caseWithFollowUp();
      await expect
        .poll(async () => (await t.db.db.select().from(followUps).where(eq(followUps.id, followUp.id)))[0]!.status, { timeout: 15_000 })
        .toBe('overdue');
      const due = (await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === followUp.id);
      const overdue = (await inbox(t, lead.id, 'follow_up_overdue')).filter((n) => n.subjectId === followUp.id);
      expect(due).toHaveLength(1);
      expect(overdue).toHaveLength(1);
      expect(due[0]!.createdAt.getTime()).toBeLessThanOrEqual(overdue[0]!.createdAt.getTime());
      expect(due[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(followUp.dueAt.getTime());
    } finally {
      await w.close(5_000);
    }
  });

  it('snooze and cancel prevent firing; a snoozed follow-up fires at its new time', async () => {
    const w = await workersFor(t);
    try {
      const snoozed = await caseWithFollowUp();
      const cancelled = await caseWithFollowUp();
      const completed = await caseWithFollowUp();
      const later = await ok<{ version?: number; dueAt: string }>(t, sam, 'POST', `/v1/follow-ups/${snoozed.followUp.id}/snooze`, {
        until: iso(6_000),
      });
      await ok(t, sam, 'POST', `/v1/follow-ups/${cancelled.followUp.id}/cancel`, {});
      await ok(t, sam, 'POST', `/v1/follow-ups/${completed.followUp.id}/complete`, {});
      // Past the original due time (and its job) by 1.6 s, well before the new one: nothing may have fired yet.
      await sleep(Math.max(0, snoozed.followUp.dueAt.getTime() + 1_600 - Date.now()));
      const dueFor = async (id: string) => (await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === id).length;
      const quiet = await dueFor(snoozed.followUp.id);
      expect(Date.now(), 'the check ran before the snoozed time').toBeLessThan(Date.parse(later.dueAt));
      expect(quiet).toBe(0);
      await expect.poll(() => dueFor(snoozed.followUp.id), { timeout: 15_000 }).toBe(1);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(later.dueAt));
      await reconcile(t.db.db, t.clock);
      expect(await dueFor(cancelled.followUp.id)).toBe(0);
      expect(await dueFor(completed.followUp.id)).toBe(0);
      const [c] = await t.db.db.select().from(followUps).where(eq(followUps.id, cancelled.followUp.id));
      expect(c!.status).toBe('cancelled');
    } finally {
      await w.close(5_000);
    }
  });

  it('safeguarding re-escalates every period until acknowledged, then stops', async () => {
    const { programId: p, l, admin, i } = await cast(t, { l: 'lead', admin: 'admin', i: 'intervener' }, { safeguardingAckWithin: 'PT1S' });
    const w = await workersFor(t);
    try {
      const c = await activeCase(t, l, p, i.id);
      const concern = await ok<{ id: string }>(t, i, 'POST', `/v1/cases/${c.id}/safeguarding`, {
        severity: 'urgent',
        concern: 'talked about hurting someone',
      });
      expect((await inbox(t, l.id, 'safeguarding_raised')).filter((n) => n.subjectId === concern.id)).toHaveLength(1);
      const escalations = async (who: string) =>
        (await inbox(t, who, 'safeguarding_unacknowledged')).filter((n) => n.subjectId === concern.id).length;
      await expect.poll(() => escalations(l.id), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      expect(await escalations(admin.id)).toBeGreaterThanOrEqual(2);
      await ok(t, l, 'POST', `/v1/safeguarding/${concern.id}/acknowledge`, { note: 'called the hotline' });
      const after = await escalations(l.id);
      await sleep(2_200);
      await reconcile(t.db.db, t.clock);
      expect(await escalations(l.id)).toBe(after);
    } finally {
      await w.close(5_000);
    }
  });

  it('duplicate delivery of the same job produces one notification', async () => {
    const { followUp } = await caseWithFollowUp();
    await sleep(1_100);
    const results = await Promise.all([1, 2, 3].map(() => fireFollowUpDue(t.db.db, t.clock, followUp.id, followUp.version)));
    expect(results.map((r) => r.outcome).sort()).toEqual(['fired', 'stale', 'stale']);
    expect((await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === followUp.id)).toHaveLength(1);
    // A job for an older version is stale too.
    expect((await fireFollowUpDue(t.db.db, t.clock, followUp.id, followUp.version - 1 || 99)).outcome).toBe('stale');
    // The one-statement path keys its notification exactly as notify() does: no second one.
    const again = await notify(t.db.db, [sam.id], {
      kind: 'follow_up_due',
      programId,
      caseId: followUp.caseId,
      subjectId: followUp.id,
      occurrence: `${followUp.id}-v${followUp.version}`,
    });
    expect(again).toEqual([]);
  });

  it('a due job that arrives early changes nothing and asks to be run again at the due time', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const created = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: iso(60_000), kind: 'check_in' });
    const [f] = (await t.db.db.select().from(followUps).where(eq(followUps.id, created.id))) as [typeof followUps.$inferSelect];
    const result = await fireFollowUpDue(t.db.db, t.clock, f.id, f.version);
    expect(result.outcome).toBe('early');
    expect(result.jobs).toEqual([expect.objectContaining({ name: 'follow-up-due', jobId: jobIds.followUpDue(f.id, f.version) })]);
    const [row] = await t.db.db.select().from(followUps).where(eq(followUps.id, f.id));
    expect(row).toMatchObject({ status: 'pending', dueNotifiedAt: null });
  });

  it('a follow-up whose delayed job vanished (Redis flushed) still fires via reconcile', async () => {
    const { followUp } = await caseWithFollowUp();
    await t.queues.queue('reminders').remove(jobIds.followUpDue(followUp.id, followUp.version));
    expect(await t.queues.queue('reminders').getJob(jobIds.followUpDue(followUp.id, followUp.version))).toBeFalsy();
    await sleep(1_100);
    const result = await reconcile(t.db.db, t.clock);
    expect(result.followUpsDue).toBeGreaterThanOrEqual(1);
    expect((await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === followUp.id)).toHaveLength(1);
    const again = await reconcile(t.db.db, t.clock);
    expect((await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === followUp.id)).toHaveLength(1);
    expect(again.followUpsDue).toBe(0);
  });

  it('the response SLA fires once per unanswered inbound message, and not for answered ones', async () => {
    const w = await workersFor(t);
    try {
      const c = await activeCase(t, lead, programId, sam.id);
      const unanswered = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'comment',
        occurredAt: iso(0),
      });
      const c2 = await activeCase(t, lead, programId, sam.id, { flaggedAt: iso(-60_000) });
      const answered = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c2.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'comment',
        occurredAt: iso(-100),
      });
      await ok(t, sam, 'POST', `/v1/cases/${c2.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: iso(0) });
      await expect
        .poll(async () => (await inbox(t, sam.id, 'response_overdue')).filter((n) => n.subjectId === unanswered.id).length, {
          timeout: 10_000,
        })
        .toBe(1);
      await sleep(500);
      await reconcile(t.db.db, t.clock);
      expect((await inbox(t, sam.id, 'response_overdue')).filter((n) => n.subjectId === unanswered.id)).toHaveLength(1);
      expect((await inbox(t, sam.id, 'response_overdue')).filter((n) => n.subjectId === answered.id)).toHaveLength(0);
    } finally {
      await w.close(5_000);
    }
  });

  it('no-contact fires once per quiet spell', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    await sleep(1_100);
    const count = async () => (await inbox(t, sam.id, 'no_contact')).filter((n) => n.caseId === c.id).length;
    await scanNoContact(t.db.db, t.clock);
    expect(await count()).toBe(1);
    expect((await inbox(t, lead.id, 'no_contact')).filter((n) => n.caseId === c.id)).toHaveLength(1);
    await scanNoContact(t.db.db, t.clock);
    expect(await count()).toBe(1);
    // Contact ends the spell; the next quiet spell alerts again, once.
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: iso(0) });
    await scanNoContact(t.db.db, t.clock);
    expect(await count()).toBe(1);
    await sleep(1_100);
    await scanNoContact(t.db.db, t.clock);
    await scanNoContact(t.db.db, t.clock);
    expect(await count()).toBe(2);
  });

  it('two worker processes on one database and queue produce exactly one notification per event', async () => {
    const second = createQueueSystem({ redisUrl, databaseUrl: t.db.url, namespace: t.namespace, logger: pino({ level: 'silent' }) });
    const a = await workersFor(t);
    const b = await workersFor(t, { queues: second });
    try {
      const made = await Promise.all([1, 2, 3, 4, 5].map(() => caseWithFollowUp()));
      // Both also reconcile at once, racing the delayed jobs.
      await sleep(1_200);
      await Promise.all([reconcile(t.db.db, t.clock), reconcile(t.db.db, t.clock)]);
      await expect
        .poll(
          async () => {
            const rows = await t.db.db.select().from(followUps).where(eq(followUps.programId, programId));
            return made.every((m) => rows.find((r) => r.id === m.followUp.id)?.status === 'overdue');
          },
          { timeout: 15_000 },
        )
        .toBe(true);
      for (const m of made) {
        expect((await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === m.followUp.id)).toHaveLength(1);
        expect((await inbox(t, lead.id, 'follow_up_overdue')).filter((n) => n.subjectId === m.followUp.id)).toHaveLength(1);
      }
    } finally {
      await a.close(5_000);
      await b.close(5_000);
      await second.close();
    }
  });

  it('signs webhooks, retries failures, and carries ids only', async () => {
    const received: { body: string; signature: string }[] = [];
    let calls = 0;
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        calls++;
        if (calls <= 2) {
          res.writeHead(500).end();
          return;
        }
        received.push({ body, signature: String(req.headers['x-overture-signature']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const p = await ok<{ id: string; webhookSecret: string }>(t, await t.staff('admin', null), 'POST', '/v1/programs', {
      name: 'Hooked',
      settings: { staffWebhookUrl: `http://127.0.0.1:${port}/hook` },
    });
    const l = await t.staff('lead', p.id);
    const i = await t.staff('intervener', p.id);
    const w = await workersFor(t);
    try {
      const c = await activeCase(t, l, p.id, i.id);
      await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      const hook = received[0]!;
      expect(hook.signature).toBe(signature(p.webhookSecret, hook.body));
      const payload = JSON.parse(hook.body);
      expect(payload).toEqual({
        id: expect.any(String),
        kind: 'case_assigned',
        staffId: i.id,
        programId: p.id,
        caseId: c.id,
        createdAt: expect.any(String),
      });
      // The receiver records the request before it answers; the worker marks delivery after the answer.
      await expect
        .poll(async () => (await t.db.db.select().from(notifications).where(eq(notifications.id, payload.id)))[0]?.webhookDeliveredAt)
        .toBeInstanceOf(Date);
      const [n] = await t.db.db.select().from(notifications).where(eq(notifications.id, payload.id));
      expect(n!.webhookAttempts).toBe(3);
      const [row] = await t.db.db.select({ handle: programs.name }).from(programs).where(eq(programs.id, p.id));
      expect(hook.body).not.toContain(row!.handle);
      const [kase] = await t.db.db.select().from(cases).where(eq(cases.id, c.id));
      expect(kase).toBeDefined();
    } finally {
      await w.close(5_000);
      server.close();
    }
  });
});

describe('queue outage', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Nothing listens on port 1: every enqueue fails, as when Redis is down.
    t = await createTestApp({ redisUrl: 'redis://127.0.0.1:1' });
  });
  afterAll(() => t.close());

  it('writes still commit, readyz stays 200 and says degraded, and reconcile fires what is due', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { followUpAfter: 'PT1S', overdueGrace: 'PT1H' });
    const c = await activeCase(t, lead, programId, sam.id);
    const started = Date.now();
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${c.id}/touchpoints`,
      headers: sam.auth,
      payload: { direction: 'outbound', channel: 'comment', occurredAt: iso(0) },
    });
    expect(res.statusCode).toBe(201);
    expect(Date.now() - started).toBeLessThan(3_000);
    const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
    expect(f!.status).toBe('pending');
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().queue).toEqual({ backend: 'redis', state: 'degraded' });
    await sleep(1_100);
    await reconcile(t.db.db, t.clock);
    expect((await inbox(t, sam.id, 'follow_up_due')).filter((n) => n.subjectId === f!.id)).toHaveLength(1);
  });
});

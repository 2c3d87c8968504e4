import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followUps } from '../src/db/schema/index.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok, auditCount } from './helpers/story.js';

interface FollowUp {
  id: string;
  caseId: string;
  assigneeId: string | null;
  dueAt: string;
  kind: string;
  note: string | null;
  status: string;
  createdAt: string;
  completedAt: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let t: TestApp;
let programId: string;
let lead: Who;
let analyst: Who;
let admin: Who;
let sam: Who;
let ivy: Who;
let otherLead: Who;
let otherIntervener: Who;

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

async function stored(id: string) {
  const [row] = await t.db.db.select().from(followUps).where(eq(followUps.id, id));
  return row!;
}

/** Every page of a list, following nextCursor. */
async function allPages(who: Who, url: string) {
  const seen: FollowUp[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const page: Page<FollowUp> = await ok(t, who, 'GET', cursor ? `${url}${sep}cursor=${cursor}` : url);
    seen.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { seen, pages };
}

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, analyst, admin, sam, ivy } = await cast(t, {
    lead: 'lead',
    analyst: 'analyst',
    admin: 'admin',
    sam: 'intervener',
    ivy: 'intervener',
  }));
  ({ lead: otherLead, intervener: otherIntervener } = await cast(t, { lead: 'lead', intervener: 'intervener' }));
});
afterAll(() => t.close());

describe('POST /v1/cases/{id}/follow-ups', () => {
  it("schedules a reminder for the case's holder, by the holder or a lead, and audits it", async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const dueAt = inHours(24);
    const before = await auditCount(t, 'follow_up.create', sam.id);
    const res = await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt, kind: 'check_in', note: '  ask about the match  ' });
    expect(res.statusCode).toBe(201);
    const f = res.json() as FollowUp;
    expect(Object.keys(f).sort()).toEqual(['assigneeId', 'caseId', 'completedAt', 'createdAt', 'dueAt', 'id', 'kind', 'note', 'status']);
    expect(f).toMatchObject({
      caseId: c.id,
      assigneeId: sam.id,
      dueAt,
      kind: 'check_in',
      note: 'ask about the match',
      status: 'pending',
      completedAt: null,
    });
    expect(await auditCount(t, 'follow_up.create', sam.id)).toBe(before + 1);
    expect((await stored(f.id)).version).toBe(1);

    const byLead = await ok<FollowUp>(t, lead, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt, kind: 'review' });
    expect(byLead).toMatchObject({ assigneeId: sam.id, kind: 'review', note: null });
  });

  it('replays a create with the same Idempotency-Key and refuses the key with another body', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const body = { dueAt: inHours(5), kind: 'follow_up' };
    const headers = { 'idempotency-key': `fu-${c.id}` };
    const first = await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, body, headers);
    const again = await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, body, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { ...body, kind: 'review' }, headers),
      422,
      'idempotency.key_reused',
    );
    const rows = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
    expect(rows).toHaveLength(1);
  });

  it('validates the reminder', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const url = `/v1/cases/${c.id}/follow-ups`;
    const past = new Date(Date.now() - 60_000).toISOString();
    const res = expectProblem(await call(t, sam, 'POST', url, { dueAt: past, kind: 'follow_up' }), 400, 'follow_up.due_in_past');
    expect(res['errors']).toEqual([{ path: 'body.dueAt', message: expect.any(String) }]);
    expectProblem(await call(t, sam, 'POST', url, { dueAt: inHours(1), kind: 'follow_up', note: 'x'.repeat(501) }), 400, 'request.invalid');
    expect((await call(t, sam, 'POST', url, { dueAt: inHours(1), kind: 'follow_up', note: 'x'.repeat(500) })).statusCode).toBe(201);
    expectProblem(await call(t, sam, 'POST', url, { dueAt: inHours(1), kind: 'message_them' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { dueAt: 'tomorrow', kind: 'follow_up' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { kind: 'follow_up' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { dueAt: inHours(1), kind: 'follow_up', assigneeId: ivy.id }), 400, 'request.invalid');
    expectProblem(
      await call(t, sam, 'POST', '/v1/cases/not-a-uuid/follow-ups', { dueAt: inHours(1), kind: 'follow_up' }),
      400,
      'request.invalid',
    );
  });

  it('needs an active case (409 for a lead, 404 for an intervener who holds none)', async () => {
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(programId));
    const body = { dueAt: inHours(1), kind: 'follow_up' };
    const res = expectProblem(await call(t, lead, 'POST', `/v1/cases/${flagged.id}/follow-ups`, body), 409, 'follow_up.case_not_active');
    expect(res['currentStatus']).toBe('flagged');
    const closed = await activeCase(t, lead, programId, sam.id);
    await ok(t, lead, 'POST', `/v1/cases/${closed.id}/close`, { outcome: 'other' });
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${closed.id}/follow-ups`, body), 409, 'follow_up.case_not_active');
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${closed.id}/follow-ups`, body), 404, 'case.not_found');
  });

  it('keeps to scope: 404 outside it, 403 for roles that never schedule', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const url = `/v1/cases/${c.id}/follow-ups`;
    const body = { dueAt: inHours(1), kind: 'follow_up' };
    expectProblem(await call(t, ivy, 'POST', url, body), 404, 'case.not_found');
    expectProblem(await call(t, otherLead, 'POST', url, body), 404, 'case.not_found');
    expectProblem(await call(t, otherIntervener, 'POST', url, body), 404, 'case.not_found');
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${crypto.randomUUID()}/follow-ups`, body), 404, 'case.not_found');
    expectProblem(await call(t, analyst, 'POST', url, body), 403, 'auth.forbidden');
    expectProblem(await call(t, admin, 'POST', url, body), 403, 'auth.forbidden');
    expectProblem(await call(t, { auth: { authorization: 'Bearer ovt_nope' } }, 'POST', url, body), 401, 'auth.unauthorized');
  });
});

describe('GET /v1/follow-ups', () => {
  let p: string;
  let l: Who;
  let a: Who;
  let b: Who;
  const aIds: string[] = [];
  let bId: string;

  beforeAll(async () => {
    ({ programId: p, l, a, b } = await cast(t, { l: 'lead', a: 'intervener', b: 'intervener' }));
    const ca = await activeCase(t, l, p, a.id);
    const ca2 = await activeCase(t, l, p, a.id);
    const cb = await activeCase(t, l, p, b.id);
    // Two share a due time, so the id breaks the tie across a page boundary.
    for (const [caseId, h] of [
      [ca.id, 30],
      [ca2.id, 10],
      [ca.id, 20],
      [ca2.id, 20],
      [ca.id, 40],
    ] as const) {
      aIds.push(
        (
          await ok<FollowUp>(t, l, 'POST', `/v1/cases/${caseId}/follow-ups`, {
            dueAt: new Date(Date.UTC(2099, 0, 1, h)).toISOString(),
            kind: 'follow_up',
          })
        ).id,
      );
    }
    bId = (
      await ok<FollowUp>(t, l, 'POST', `/v1/cases/${cb.id}/follow-ups`, {
        dueAt: new Date(Date.UTC(2099, 0, 1, 25)).toISOString(),
        kind: 'review',
      })
    ).id;
  });

  it('shows an intervener their own, soonest first, page by page with a composite cursor', async () => {
    const { seen, pages } = await allPages(a, '/v1/follow-ups?limit=2');
    expect(pages).toBe(3);
    const expected = await t.db.db
      .select({ id: followUps.id })
      .from(followUps)
      .where(eq(followUps.assigneeId, a.id))
      .orderBy(followUps.dueAt, followUps.id);
    expect(seen.map((f) => f.id)).toEqual(expected.map((r) => r.id));
    expect(new Set(seen.map((f) => f.id))).toEqual(new Set(aIds));
    expect(seen.map((f) => f.dueAt)).toEqual([10, 20, 20, 30, 40].map((h) => new Date(Date.UTC(2099, 0, 1, h)).toISOString()));
    expect(seen.every((f) => f.assigneeId === a.id)).toBe(true);
    const last = await ok<Page<FollowUp>>(t, a, 'GET', '/v1/follow-ups?limit=5');
    expect(last.items).toHaveLength(5);
    expect(last.nextCursor).toBeNull();
  });

  it("gives an intervener an empty list for someone else's assigneeId, and a lead the whole program", async () => {
    expect((await ok<Page<FollowUp>>(t, a, 'GET', `/v1/follow-ups?assigneeId=${b.id}`)).items).toEqual([]);
    expect((await ok<Page<FollowUp>>(t, a, 'GET', `/v1/follow-ups?assigneeId=${a.id}`)).items).toHaveLength(5);
    expect((await ok<Page<FollowUp>>(t, b, 'GET', '/v1/follow-ups')).items.map((f) => f.id)).toEqual([bId]);
    const all = await allPages(l, '/v1/follow-ups?limit=4');
    expect(all.seen).toHaveLength(6);
    expect(all.pages).toBe(2);
    expect((await ok<Page<FollowUp>>(t, l, 'GET', `/v1/follow-ups?assigneeId=${b.id}`)).items.map((f) => f.id)).toEqual([bId]);
    // Nothing of this program reaches another program's lead or an analyst.
    expect((await ok<Page<FollowUp>>(t, otherLead, 'GET', '/v1/follow-ups')).items.filter((f) => [...aIds, bId].includes(f.id))).toEqual(
      [],
    );
    expectProblem(await call(t, analyst, 'GET', '/v1/follow-ups'), 403, 'auth.forbidden');
    expectProblem(await call(t, admin, 'GET', '/v1/follow-ups'), 403, 'auth.forbidden');
  });

  it('filters by status, case and due window in SQL', async () => {
    await ok(t, a, 'POST', `/v1/follow-ups/${aIds[4]}/complete`);
    const pending = await ok<Page<FollowUp>>(t, a, 'GET', '/v1/follow-ups?status=pending');
    expect(pending.items.map((f) => f.id).sort()).toEqual(aIds.slice(0, 4).sort());
    expect((await ok<Page<FollowUp>>(t, a, 'GET', '/v1/follow-ups?status=done')).items.map((f) => f.id)).toEqual([aIds[4]]);
    expect((await ok<Page<FollowUp>>(t, l, 'GET', '/v1/follow-ups?status=overdue')).items).toEqual([]);
    const from = new Date(Date.UTC(2099, 0, 1, 20)).toISOString();
    const to = new Date(Date.UTC(2099, 0, 1, 30)).toISOString();
    const window = await ok<Page<FollowUp>>(t, l, 'GET', `/v1/follow-ups?dueFrom=${from}&dueTo=${to}`);
    expect(window.items.map((f) => f.dueAt)).toEqual([from, from, new Date(Date.UTC(2099, 0, 1, 25)).toISOString()]);
    const caseId = window.items.find((f) => f.id === bId)!.caseId;
    expect((await ok<Page<FollowUp>>(t, l, 'GET', `/v1/follow-ups?caseId=${caseId}`)).items.map((f) => f.id)).toEqual([bId]);
  });

  it('refuses bad filters and foreign cursors with 400', async () => {
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?status=late'), 400, 'request.invalid');
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?assigneeId=me'), 400, 'request.invalid');
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?limit=0'), 400, 'request.invalid');
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?limit=201'), 400, 'request.invalid');
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?sort=dueAt'), 400, 'request.invalid');
    expectProblem(
      await call(t, a, 'GET', '/v1/follow-ups?dueFrom=2099-01-02T00:00:00Z&dueTo=2099-01-01T00:00:00Z'),
      400,
      'follow_up.invalid_range',
    );
    expectProblem(await call(t, a, 'GET', '/v1/follow-ups?cursor=bm90LWEtY3Vyc29y'), 400, 'pagination.invalid_cursor');
    const idOnly = Buffer.from(JSON.stringify(aIds[0])).toString('base64url');
    expectProblem(await call(t, a, 'GET', `/v1/follow-ups?cursor=${idOnly}`), 400, 'pagination.invalid_cursor');
    const badDate = Buffer.from(JSON.stringify(['2100-02-31T99:00:00Z', aIds[0]])).toString('base64url');
    expectProblem(await call(t, a, 'GET', `/v1/follow-ups?cursor=${badDate}`), 400, 'pagination.invalid_cursor');
  });

  it('audits each list once, naming every case it showed', async () => {
    const before = await auditCount(t, 'follow_up.list', l.id);
    await ok(t, l, 'GET', '/v1/follow-ups?limit=1');
    expect(await auditCount(t, 'follow_up.list', l.id)).toBe(before + 1);
    // Six follow-ups on three cases: one entry naming the three.
    await ok(t, l, 'GET', '/v1/follow-ups?limit=10');
    expect(await auditCount(t, 'follow_up.list', l.id)).toBe(before + 2);
    const [entry] = (
      await t.db.pool.query<{ case_ids: string[] }>(
        "select case_ids from audit_log where action = 'follow_up.list' and actor_id = $1 order by seq desc limit 1",
        [l.id],
      )
    ).rows;
    expect(entry!.case_ids).toHaveLength(3);
  });
});

describe('complete, snooze, cancel', () => {
  async function fresh(holder: Who = sam, hours = 2) {
    const c = await activeCase(t, lead, programId, holder.id);
    const f = await ok<FollowUp>(t, lead, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: inHours(hours), kind: 'follow_up' });
    return { caseId: c.id, f };
  }

  it('completes: done with completedAt, version bumped, audited; again is 409', async () => {
    const { f } = await fresh();
    const before = await auditCount(t, 'follow_up.complete', sam.id);
    const done = await ok<FollowUp>(t, sam, 'POST', `/v1/follow-ups/${f.id}/complete`);
    expect(done).toMatchObject({ id: f.id, status: 'done', dueAt: f.dueAt });
    expect(Date.parse(done.completedAt!)).toBeGreaterThan(0);
    expect(Object.keys(done)).toHaveLength(9);
    expect((await stored(f.id)).version).toBe(2);
    expect(await auditCount(t, 'follow_up.complete', sam.id)).toBe(before + 1);
    const again = expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/complete`), 409, 'follow_up.invalid_transition');
    expect(again['currentStatus']).toBe('done');
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/cancel`), 409, 'follow_up.invalid_transition');
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/snooze`, { until: inHours(3) }), 409, 'follow_up.invalid_transition');
    expect((await stored(f.id)).version).toBe(2);
  });

  it('cancels: cancelled with cancelledAt (not shown), version bumped; again is 409', async () => {
    const { f } = await fresh();
    const cancelled = await ok<FollowUp>(t, lead, 'POST', `/v1/follow-ups/${f.id}/cancel`, {});
    expect(cancelled).toMatchObject({ id: f.id, status: 'cancelled', completedAt: null });
    expect(cancelled).not.toHaveProperty('cancelledAt');
    const row = await stored(f.id);
    expect(row.cancelledAt).toBeInstanceOf(Date);
    expect(row.version).toBe(2);
    expectProblem(await call(t, lead, 'POST', `/v1/follow-ups/${f.id}/cancel`), 409, 'follow_up.invalid_transition');
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/complete`), 409, 'follow_up.invalid_transition');
  });

  it('snoozes: new dueAt, back to pending, re-armed, version bumped', async () => {
    const { f } = await fresh();
    const now = new Date();
    await t.db.db.update(followUps).set({ status: 'overdue', dueNotifiedAt: now, overdueNotifiedAt: now }).where(eq(followUps.id, f.id));
    const until = inHours(48);
    const snoozed = await ok<FollowUp>(t, sam, 'POST', `/v1/follow-ups/${f.id}/snooze`, { until });
    expect(snoozed).toMatchObject({ id: f.id, dueAt: until, status: 'pending', completedAt: null });
    const row = await stored(f.id);
    expect(row).toMatchObject({ dueNotifiedAt: null, overdueNotifiedAt: null, version: 2 });
    await ok(t, lead, 'POST', `/v1/follow-ups/${f.id}/snooze`, { until: inHours(72) });
    expect((await stored(f.id)).version).toBe(3);
    expect(await auditCount(t, 'follow_up.snooze', sam.id)).toBeGreaterThanOrEqual(1);
  });

  it('validates the snooze and the action bodies', async () => {
    const { f } = await fresh();
    const url = `/v1/follow-ups/${f.id}/snooze`;
    const res = expectProblem(
      await call(t, sam, 'POST', url, { until: new Date(Date.now() - 1000).toISOString() }),
      400,
      'follow_up.until_in_past',
    );
    expect(res['errors']).toEqual([{ path: 'body.until', message: expect.any(String) }]);
    expectProblem(await call(t, sam, 'POST', url, {}), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { until: 'later' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { until: inHours(1), reason: 'busy' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/complete`, { note: 'done' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', '/v1/follow-ups/nope/complete'), 400, 'request.invalid');
    expect((await stored(f.id)).version).toBe(1);
  });

  it("answers 404 to anyone who is not the holder or the program's lead, 403 to roles that never may", async () => {
    const { f } = await fresh();
    for (const action of ['complete', 'cancel']) {
      for (const who of [ivy, otherLead, otherIntervener]) {
        expectProblem(await call(t, who, 'POST', `/v1/follow-ups/${f.id}/${action}`), 404, 'follow_up.not_found');
      }
      expectProblem(await call(t, analyst, 'POST', `/v1/follow-ups/${f.id}/${action}`), 403, 'auth.forbidden');
      expectProblem(await call(t, admin, 'POST', `/v1/follow-ups/${f.id}/${action}`), 403, 'auth.forbidden');
    }
    expectProblem(await call(t, ivy, 'POST', `/v1/follow-ups/${f.id}/snooze`, { until: inHours(5) }), 404, 'follow_up.not_found');
    expectProblem(await call(t, otherLead, 'POST', `/v1/follow-ups/${f.id}/snooze`, { until: inHours(5) }), 404, 'follow_up.not_found');
    expectProblem(await call(t, lead, 'POST', `/v1/follow-ups/${crypto.randomUUID()}/complete`), 404, 'follow_up.not_found');
    expect((await stored(f.id)).version).toBe(1);
  });

  it('follows the case: a reassigned intervener loses it, the new holder gains it', async () => {
    const { caseId, f } = await fresh();
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/assignment`, { intervenerId: ivy.id });
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/complete`), 404, 'follow_up.not_found');
    expect((await ok<Page<FollowUp>>(t, sam, 'GET', `/v1/follow-ups?caseId=${caseId}`)).items).toEqual([]);
    expect((await ok<Page<FollowUp>>(t, ivy, 'GET', `/v1/follow-ups?caseId=${caseId}`)).items.map((x) => [x.id, x.assigneeId])).toEqual([
      [f.id, ivy.id],
    ]);
    expect((await ok<FollowUp>(t, ivy, 'POST', `/v1/follow-ups/${f.id}/complete`)).status).toBe('done');
  });

  it('hides follow-ups of a case the intervener no longer holds as active', async () => {
    const { caseId, f } = await fresh();
    const done = await ok<FollowUp>(t, sam, 'POST', `/v1/cases/${caseId}/follow-ups`, { dueAt: inHours(1), kind: 'check_in' });
    await ok(t, sam, 'POST', `/v1/follow-ups/${done.id}/complete`);
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/close`, { outcome: 'other' });
    // Closing cancelled what was outstanding; the holder no longer sees any of it.
    expect((await stored(f.id)).status).toBe('cancelled');
    expect((await ok<Page<FollowUp>>(t, sam, 'GET', `/v1/follow-ups?caseId=${caseId}`)).items).toEqual([]);
    expectProblem(await call(t, sam, 'POST', `/v1/follow-ups/${f.id}/cancel`), 404, 'follow_up.not_found');
    const leadView = await ok<Page<FollowUp>>(t, lead, 'GET', `/v1/follow-ups?caseId=${caseId}`);
    expect(leadView.items.map((x) => x.status).sort()).toEqual(['cancelled', 'done']);
  });
});

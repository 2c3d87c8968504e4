import { Validator } from '@seriousme/openapi-schema-validator';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../src/db/schema/index.js';
import { notify } from '../src/domain/notifications/notify.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, ok, auditCount } from './helpers/story.js';

interface Notification {
  id: string;
  kind: string;
  caseId: string | null;
  createdAt: string;
  readAt: string | null;
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

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, analyst, admin, sam, ivy } = await cast(t, {
    lead: 'lead',
    analyst: 'analyst',
    admin: 'admin',
    sam: 'intervener',
    ivy: 'intervener',
  }));
});
afterAll(() => t.close());

describe('GET /v1/me/notifications', () => {
  it('shows the intervener a case_assigned notification for each assignment, and nothing of anyone else', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const inbox = await ok<Page<Notification>>(t, sam, 'GET', '/v1/me/notifications');
    const item = inbox.items.find((n) => n.caseId === c.id)!;
    expect(item).toMatchObject({ kind: 'case_assigned', caseId: c.id, readAt: null });
    expect(Object.keys(item).sort()).toEqual(['caseId', 'createdAt', 'id', 'kind', 'readAt']);
    expect(inbox.items.every((n) => n.kind === 'case_assigned')).toBe(true);
    expect((await ok<Page<Notification>>(t, ivy, 'GET', '/v1/me/notifications')).items.find((n) => n.caseId === c.id)).toBeUndefined();
    expect((await ok<Page<Notification>>(t, lead, 'GET', '/v1/me/notifications')).items).toEqual([]);

    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: ivy.id });
    const ivys = await ok<Page<Notification>>(t, ivy, 'GET', '/v1/me/notifications');
    expect(ivys.items.filter((n) => n.caseId === c.id).map((n) => n.kind)).toEqual(['case_assigned']);
  });

  it('is open to every role, each seeing only their own', async () => {
    for (const who of [lead, analyst, admin, sam]) {
      expect((await call(t, who, 'GET', '/v1/me/notifications')).statusCode).toBe(200);
    }
    await notify(t.db.db, [admin.id], {
      kind: 'safeguarding_unacknowledged',
      programId,
      caseId: null,
      subjectId: null,
      occurrence: 'admin-test',
    });
    const mine = await ok<Page<Notification>>(t, admin, 'GET', '/v1/me/notifications');
    expect(mine.items.map((n) => n.kind)).toEqual(['safeguarding_unacknowledged']);
    expect(mine.items[0]!.caseId).toBeNull();
    expectProblem(await call(t, { auth: { authorization: 'Bearer ovt_nope' } }, 'GET', '/v1/me/notifications'), 401, 'auth.unauthorized');
  });

  it('pages newest first with a cursor', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' });
    const caseIds: string[] = [];
    for (let n = 0; n < 5; n++) caseIds.push((await activeCase(t, l, p, i.id)).id);
    const seen: Notification[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Notification> = await ok(t, i, 'GET', `/v1/me/notifications?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((n) => n.caseId)).toEqual([...caseIds].reverse());
    expect(seen.map((n) => n.id)).toEqual(
      seen
        .map((n) => n.id)
        .sort()
        .reverse(),
    );
  });

  it('refuses bad filters and cursors', async () => {
    expectProblem(await call(t, sam, 'GET', '/v1/me/notifications?unread=yes'), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'GET', '/v1/me/notifications?kind=case_assigned'), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'GET', '/v1/me/notifications?limit=0'), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'GET', '/v1/me/notifications?cursor=garbage'), 400, 'pagination.invalid_cursor');
  });

  it('audits each inbox read once', async () => {
    const before = await auditCount(t, 'notification.list', sam.id);
    await ok(t, sam, 'GET', '/v1/me/notifications');
    expect(await auditCount(t, 'notification.list', sam.id)).toBe(before + 1);
  });
});

describe('POST /v1/me/notifications/{id}/read', () => {
  it('marks read once, keeps the first readAt, and the unread filter follows', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' });
    const first = await activeCase(t, l, p, i.id);
    const second = await activeCase(t, l, p, i.id);
    const unread = await ok<Page<Notification>>(t, i, 'GET', '/v1/me/notifications?unread=true');
    expect(unread.items.map((n) => n.caseId)).toEqual([second.id, first.id]);
    const target = unread.items[1]!;

    const read = await ok<Notification>(t, i, 'POST', `/v1/me/notifications/${target.id}/read`);
    expect(read).toMatchObject({ id: target.id, kind: 'case_assigned', caseId: first.id, createdAt: target.createdAt });
    expect(Date.parse(read.readAt!)).toBeGreaterThan(0);
    expect(Object.keys(read).sort()).toEqual(['caseId', 'createdAt', 'id', 'kind', 'readAt']);
    const again = await ok<Notification>(t, i, 'POST', `/v1/me/notifications/${target.id}/read`, {});
    expect(again.readAt).toBe(read.readAt);

    expect((await ok<Page<Notification>>(t, i, 'GET', '/v1/me/notifications?unread=true')).items.map((n) => n.id)).toEqual([
      unread.items[0]!.id,
    ]);
    expect((await ok<Page<Notification>>(t, i, 'GET', '/v1/me/notifications?unread=false')).items.map((n) => n.id)).toEqual([target.id]);
    expect((await ok<Page<Notification>>(t, i, 'GET', '/v1/me/notifications')).items).toHaveLength(2);
    expect(await auditCount(t, 'notification.read', i.id)).toBe(2);
  });

  it("answers 404 for someone else's or a missing notification, 400 for a bad id or body", async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const [n] = await t.db.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.caseId, c.id), eq(notifications.staffId, sam.id)));
    for (const who of [ivy, lead, admin, analyst]) {
      expectProblem(await call(t, who, 'POST', `/v1/me/notifications/${n!.id}/read`), 404, 'notification.not_found');
    }
    const [still] = await t.db.db.select().from(notifications).where(eq(notifications.id, n!.id));
    expect(still!.readAt).toBeNull();
    expectProblem(await call(t, sam, 'POST', `/v1/me/notifications/${crypto.randomUUID()}/read`), 404, 'notification.not_found');
    expectProblem(await call(t, sam, 'POST', '/v1/me/notifications/123/read'), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', `/v1/me/notifications/${n!.id}/read`, { read: true }), 400, 'request.invalid');
  });
});

describe('OpenAPI', () => {
  it('describes the follow-up, safeguarding, notification and caseload routes in a valid document', async () => {
    const res = await t.app.inject({ url: '/openapi.json' });
    const doc = res.json();
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const path of [
      '/v1/cases/{id}/follow-ups',
      '/v1/follow-ups',
      '/v1/follow-ups/{id}/complete',
      '/v1/follow-ups/{id}/snooze',
      '/v1/follow-ups/{id}/cancel',
      '/v1/cases/{id}/safeguarding',
      '/v1/safeguarding/{id}/acknowledge',
      '/v1/safeguarding',
      '/v1/me/notifications',
      '/v1/me/notifications/{id}/read',
      '/v1/me/caseload',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['FollowUp', 'SafeguardingConcern', 'Notification', 'CaseloadItem']),
    );
  });
});

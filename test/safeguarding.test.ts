import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications, safeguardingConcerns, staff } from '../src/db/schema/index.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok, auditCount } from './helpers/story.js';

interface Concern {
  id: string;
  caseId: string;
  severity: string;
  concern: string | null;
  actionTaken: string | null;
  status: string;
  raisedBy: string;
  raisedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let t: TestApp;
let programId: string;
let lead: Who;
let lead2: Who;
let formerLead: Who;
let analyst: Who;
let admin: Who;
let sam: Who;
let ivy: Who;
let otherLead: Who;
let otherIntervener: Who;

const body = (extra: Record<string, unknown> = {}) => ({ severity: 'urgent', concern: 'Said he plans to hurt himself tonight.', ...extra });

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, lead2, formerLead, analyst, admin, sam, ivy } = await cast(t, {
    lead: 'lead',
    lead2: 'lead',
    formerLead: 'lead',
    analyst: 'analyst',
    admin: 'admin',
    sam: 'intervener',
    ivy: 'intervener',
  }));
  await t.db.db.update(staff).set({ active: false }).where(eq(staff.id, formerLead.id));
  ({ lead: otherLead, intervener: otherIntervener } = await cast(t, { lead: 'lead', intervener: 'intervener' }));
});
afterAll(() => t.close());

describe('POST /v1/cases/{id}/safeguarding', () => {
  it('records the concern and notifies every active lead of the program in the same transaction', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const res = await call(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body({ actionTaken: ' Gave him a crisis line number. ' }));
    expect(res.statusCode).toBe(201);
    const concern = res.json() as Concern;
    expect(Object.keys(concern).sort()).toEqual(
      ['acknowledgedAt', 'acknowledgedBy', 'actionTaken', 'caseId', 'concern', 'id', 'raisedAt', 'raisedBy', 'severity', 'status'].sort(),
    );
    expect(concern).toMatchObject({
      caseId: c.id,
      severity: 'urgent',
      concern: 'Said he plans to hurt himself tonight.',
      actionTaken: 'Gave him a crisis line number.',
      status: 'open',
      raisedBy: sam.id,
      acknowledgedBy: null,
      acknowledgedAt: null,
    });
    const sent = await t.db.db.select().from(notifications).where(eq(notifications.subjectId, concern.id));
    expect(sent.map((n) => n.staffId).sort()).toEqual([lead.id, lead2.id].sort());
    expect(sent.every((n) => n.kind === 'safeguarding_raised' && n.caseId === c.id && n.programId === programId)).toBe(true);
    const inbox = await ok<Page<{ kind: string; caseId: string }>>(t, lead2, 'GET', '/v1/me/notifications?unread=true');
    // The same transaction owes Sam a debrief (Intervener welfare), so the leads also hear debrief_due.
    expect(inbox.items.map((n) => n.kind).sort()).toEqual(['debrief_due', 'safeguarding_raised']);
    expect(inbox.items.find((n) => n.kind === 'safeguarding_raised')).toMatchObject({ caseId: c.id });
    expect(await auditCount(t, 'safeguarding.raise', sam.id)).toBeGreaterThanOrEqual(1);
  });

  it('replays with the same Idempotency-Key: one concern, one notification per lead', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const headers = { 'idempotency-key': `sg-${c.id}` };
    const first = await call(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body({ severity: 'high' }), headers);
    const again = await call(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body({ severity: 'high' }), headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body(), headers), 422, 'idempotency.key_reused');
    expect(await t.db.db.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.caseId, c.id))).toHaveLength(1);
    expect(await t.db.db.select().from(notifications).where(eq(notifications.subjectId, first.json().id))).toHaveLength(2);
  });

  it('may be raised by anyone who can see the case', async () => {
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(programId));
    const byAnalyst = await ok<Concern>(t, analyst, 'POST', `/v1/cases/${flagged.id}/safeguarding`, body({ severity: 'high' }));
    expect(byAnalyst).toMatchObject({ raisedBy: analyst.id, actionTaken: null });
    const c = await activeCase(t, lead, programId, sam.id);
    expect((await ok<Concern>(t, lead, 'POST', `/v1/cases/${c.id}/safeguarding`, body())).raisedBy).toBe(lead.id);
  });

  it('keeps to scope: 404 outside it, 403 for admins', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const url = `/v1/cases/${c.id}/safeguarding`;
    expectProblem(await call(t, ivy, 'POST', url, body()), 404, 'case.not_found');
    expectProblem(await call(t, analyst, 'POST', url, body()), 404, 'case.not_found');
    expectProblem(await call(t, otherLead, 'POST', url, body()), 404, 'case.not_found');
    expectProblem(await call(t, otherIntervener, 'POST', url, body()), 404, 'case.not_found');
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${crypto.randomUUID()}/safeguarding`, body()), 404, 'case.not_found');
    expectProblem(await call(t, admin, 'POST', url, body()), 403, 'auth.forbidden');
    expect(await t.db.db.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.caseId, c.id))).toHaveLength(0);
  });

  it('validates the concern', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const url = `/v1/cases/${c.id}/safeguarding`;
    expectProblem(await call(t, sam, 'POST', url, body({ concern: '   ' })), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, body({ concern: 'x'.repeat(2001) })), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, body({ actionTaken: 'x'.repeat(2001) })), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, body({ severity: 'low' })), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, { severity: 'urgent' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', url, body({ handle: '@someone' })), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', '/v1/cases/x/safeguarding', body()), 400, 'request.invalid');
    expect((await call(t, sam, 'POST', url, body({ concern: 'x'.repeat(2000), actionTaken: 'y'.repeat(2000) }))).statusCode).toBe(201);
  });
});

describe('POST /v1/safeguarding/{id}/acknowledge', () => {
  it('moves open → acknowledged once, by a lead of the program', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const raised = await ok<Concern>(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body());
    const acked = await ok<Concern>(t, lead2, 'POST', `/v1/safeguarding/${raised.id}/acknowledge`, { note: 'Called the crisis team.' });
    expect(acked).toMatchObject({ id: raised.id, status: 'acknowledged', acknowledgedBy: lead2.id, raisedBy: sam.id });
    expect(Date.parse(acked.acknowledgedAt!)).toBeGreaterThan(0);
    const [row] = await t.db.db.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.id, raised.id));
    expect(row!.acknowledgeNote).toBe('Called the crisis team.');
    expect(await auditCount(t, 'safeguarding.acknowledge', lead2.id)).toBe(1);

    const again = expectProblem(
      await call(t, lead, 'POST', `/v1/safeguarding/${raised.id}/acknowledge`, {}),
      409,
      'safeguarding.already_acknowledged',
    );
    expect(again['acknowledgedBy']).toBe(lead2.id);
  });

  it('takes no body at all, or an empty one', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const a = await ok<Concern>(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body());
    const b = await ok<Concern>(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body({ severity: 'high' }));
    expect((await ok<Concern>(t, lead, 'POST', `/v1/safeguarding/${a.id}/acknowledge`)).status).toBe('acknowledged');
    expect((await ok<Concern>(t, lead, 'POST', `/v1/safeguarding/${b.id}/acknowledge`, {})).status).toBe('acknowledged');
  });

  it('answers 404 outside the program, 403 to every other role, 400 for bad input', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const raised = await ok<Concern>(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, body());
    const url = `/v1/safeguarding/${raised.id}/acknowledge`;
    expectProblem(await call(t, otherLead, 'POST', url, {}), 404, 'safeguarding.not_found');
    expectProblem(await call(t, lead, 'POST', `/v1/safeguarding/${crypto.randomUUID()}/acknowledge`, {}), 404, 'safeguarding.not_found');
    for (const who of [sam, analyst, admin, otherIntervener]) expectProblem(await call(t, who, 'POST', url, {}), 403, 'auth.forbidden');
    expectProblem(await call(t, lead, 'POST', url, { note: 'x'.repeat(2001) }), 400, 'request.invalid');
    expectProblem(await call(t, lead, 'POST', url, { note: 'ok', status: 'acknowledged' }), 400, 'request.invalid');
    expectProblem(await call(t, lead, 'POST', '/v1/safeguarding/123/acknowledge', {}), 400, 'request.invalid');
    const [row] = await t.db.db.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.id, raised.id));
    expect(row!.status).toBe('open');
  });
});

describe('GET /v1/safeguarding', () => {
  let p: string;
  let l: Who;
  let an: Who;
  let a: Who;
  let b: Who;
  let onA: string[];
  let onB: string[];
  let byAnalyst: string;

  beforeAll(async () => {
    ({ programId: p, l, an, a, b } = await cast(t, { l: 'lead', an: 'analyst', a: 'intervener', b: 'intervener' }));
    const ca = await activeCase(t, l, p, a.id);
    const cb = await activeCase(t, l, p, b.id);
    const flagged = await ok<{ id: string }>(t, an, 'POST', '/v1/cases', flagBody(p));
    byAnalyst = (await ok<Concern>(t, an, 'POST', `/v1/cases/${flagged.id}/safeguarding`, body({ severity: 'high' }))).id;
    onA = [];
    onB = [];
    for (let n = 0; n < 3; n++) onA.push((await ok<Concern>(t, n === 0 ? l : a, 'POST', `/v1/cases/${ca.id}/safeguarding`, body())).id);
    onB.push((await ok<Concern>(t, b, 'POST', `/v1/cases/${cb.id}/safeguarding`, body())).id);
    await ok(t, l, 'POST', `/v1/safeguarding/${onA[1]}/acknowledge`, {});
  });

  it("shows a lead the program's concerns, newest first, page by page", async () => {
    const seen: Concern[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Concern> = await ok(t, l, 'GET', `/v1/safeguarding?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((c) => c.id)).toEqual([byAnalyst, ...onA, ...onB].sort().reverse());
    const open = await ok<Page<Concern>>(t, l, 'GET', '/v1/safeguarding?status=open');
    expect(open.items.map((c) => c.id).sort()).toEqual([byAnalyst, onA[0]!, onA[2]!, onB[0]!].sort());
    const acked = await ok<Page<Concern>>(t, l, 'GET', '/v1/safeguarding?status=acknowledged');
    expect(acked.items.map((c) => c.id)).toEqual([onA[1]]);
    expect(acked.items[0]).toMatchObject({ status: 'acknowledged', acknowledgedBy: l.id });
    const theirs = await ok<Page<Concern>>(t, otherLead, 'GET', '/v1/safeguarding');
    expect(theirs.items.filter((c) => [byAnalyst, ...onA, ...onB].includes(c.id))).toEqual([]);
  });

  it('shows an intervener the concerns on the cases they hold now, whoever raised them', async () => {
    const mine = await ok<Page<Concern>>(t, a, 'GET', '/v1/safeguarding');
    expect(mine.items.map((c) => c.id)).toEqual([...onA].reverse());
    expect((await ok<Page<Concern>>(t, a, 'GET', '/v1/safeguarding?status=acknowledged')).items.map((c) => c.id)).toEqual([onA[1]]);
    expect((await ok<Page<Concern>>(t, b, 'GET', '/v1/safeguarding')).items.map((c) => c.id)).toEqual(onB);
  });

  it('shows an analyst only the concerns they raised', async () => {
    expect((await ok<Page<Concern>>(t, an, 'GET', '/v1/safeguarding')).items.map((c) => c.id)).toEqual([byAnalyst]);
  });

  it('follows reassignment: the old holder loses the concerns, the new holder gains them', async () => {
    const caseId = (await ok<Page<Concern>>(t, b, 'GET', '/v1/safeguarding')).items[0]!.caseId;
    const c = await t.staff('intervener', p);
    await ok(t, l, 'POST', `/v1/cases/${caseId}/assignment`, { intervenerId: c.id });
    expect((await ok<Page<Concern>>(t, b, 'GET', '/v1/safeguarding')).items).toEqual([]);
    expect((await ok<Page<Concern>>(t, c, 'GET', '/v1/safeguarding')).items.map((x) => x.id)).toEqual(onB);
  });

  it('refuses admins, bad filters and foreign cursors; audits each read', async () => {
    expectProblem(await call(t, admin, 'GET', '/v1/safeguarding'), 403, 'auth.forbidden');
    expectProblem(await call(t, l, 'GET', '/v1/safeguarding?status=closed'), 400, 'request.invalid');
    expectProblem(await call(t, l, 'GET', '/v1/safeguarding?severity=urgent'), 400, 'request.invalid');
    expectProblem(await call(t, l, 'GET', '/v1/safeguarding?cursor=garbage'), 400, 'pagination.invalid_cursor');
    const before = await auditCount(t, 'safeguarding.list', l.id);
    await ok(t, l, 'GET', '/v1/safeguarding?limit=1');
    expect(await auditCount(t, 'safeguarding.list', l.id)).toBe(before + 1);
  });
});

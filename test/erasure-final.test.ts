import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const now = () => new Date().toISOString();
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe('erasure is final', () => {
  it('an erased case refuses reopen, edits and every write with 409 case.erased, and stays as it was', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: now(),
      summary: 'before',
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'inbound', channel: 'comment', occurredAt: now() });
    const followUp = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: inAnHour(), kind: 'check_in' });
    const concern = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'high', concern: 'worried' });
    const template = await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${p}/assessment-templates`, {
      name: 'Review',
      factors: [{ key: 'isolation', label: 'Isolation' }],
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/assessments`, { templateId: template.id, phase: 'baseline', scores: {}, note: 'before' });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    const erased = await ok<{ version: number; status: string }>(t, lead, 'GET', `/v1/cases/${c.id}`);
    expect(erased.status).toBe('closed');

    const refused: [typeof lead, 'POST' | 'PATCH', string, unknown, Record<string, string>?][] = [
      [lead, 'POST', `/v1/cases/${c.id}/reopen`, { reason: 'changed my mind' }],
      [
        lead,
        'PATCH',
        `/v1/cases/${c.id}`,
        { riskLevel: 'high', indicators: [{ kind: 'post', note: 'text after erasure' }] },
        { 'if-match': `"v${erased.version}"` },
      ],
      [lead, 'PATCH', `/v1/cases/${c.id}`, { riskLevel: 'high' }, { 'if-match': '*' }],
      [
        lead,
        'POST',
        `/v1/cases/${c.id}/touchpoints`,
        { direction: 'inbound', channel: 'comment', occurredAt: now(), summary: 'text after erasure' },
      ],
      [
        lead,
        'POST',
        `/v1/cases/${c.id}/touchpoints`,
        { direction: 'outbound', channel: 'comment', occurredAt: now(), summary: 'text after erasure' },
      ],
      [lead, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: inAnHour(), kind: 'check_in', note: 'text after erasure' }],
      [lead, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'urgent', concern: 'text after erasure' }],
      [lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'other', note: 'text after erasure' }],
      [lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id }],
      [lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'again' }],
      [lead, 'POST', `/v1/safeguarding/${concern.id}/acknowledge`, { note: 'text after erasure' }],
      [
        lead,
        'POST',
        `/v1/cases/${c.id}/assessments`,
        { templateId: template.id, phase: 'closure', scores: {}, note: 'text after erasure' },
      ],
    ];
    for (const [who, method, url, body, headers] of refused) {
      const res = await call(t, who, method, url, body, headers);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(409);
      expectProblem(res, 409, 'case.erased');
    }
    // The follow-up was cancelled by the erasure; acting on it is refused as the case is erased.
    for (const action of ['complete', 'cancel']) {
      expectProblem(await call(t, lead, 'POST', `/v1/follow-ups/${followUp.id}/${action}`, {}), 409, 'case.erased');
    }
    expectProblem(await call(t, lead, 'POST', `/v1/follow-ups/${followUp.id}/snooze`, { until: inAnHour() }), 409, 'case.erased');

    const after = await ok<{ version: number; status: string; riskLevel: string }>(t, lead, 'GET', `/v1/cases/${c.id}`);
    expect(after).toMatchObject({ version: erased.version, status: 'closed', riskLevel: 'medium' });
    const text = await t.db.pool.query(
      `select 1 from touchpoints where case_id = $1 and summary is not null
       union all select 1 from follow_ups where case_id = $1 and note is not null
       union all select 1 from safeguarding_concerns where case_id = $1 and (concern is not null or acknowledge_note is not null)
       union all select 1 from assessments where case_id = $1 and note is not null`,
      [c.id],
    );
    expect(text.rows).toEqual([]);
    const counts = await t.db.pool.query<{ n: number }>('select count(*)::int as n from touchpoints where case_id = $1', [c.id]);
    expect(counts.rows[0]!.n).toBe(2);
    // Nobody can act on its concern any more, so nothing escalates about it.
    const open = await t.db.pool.query("select 1 from safeguarding_concerns where case_id = $1 and status = 'open'", [c.id]);
    expect(open.rows).toEqual([]);
  });

  it('writes racing an erasure either commit before it (and are erased with it) or are refused', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    for (let round = 0; round < 3; round++) {
      const c = await activeCase(t, lead, p, sam.id);
      const writes = Array.from({ length: 12 }, (_, i) =>
        i % 3 === 2
          ? call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: inAnHour(), kind: 'check_in', note: `racing note ${i}` })
          : call(t, i % 2 ? lead : sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
              direction: i % 2 ? 'inbound' : 'outbound',
              channel: 'comment',
              occurredAt: now(),
              summary: `racing summary ${i}`,
            }),
      );
      const erase = call(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
      const results = await Promise.all([...writes, erase]);
      expect(results.at(-1)!.statusCode).toBe(200);
      for (const res of results.slice(0, -1)) {
        // An intervener's scope is their active cases: once erased (closed) the case reads 404 to them.
        expect([201, 404, 409], res.body).toContain(res.statusCode);
        if (res.statusCode === 409)
          expect(['case.erased', 'touchpoint.case_not_active', 'follow_up.case_not_active']).toContain(res.json().code);
      }
      const left = await t.db.pool.query(
        `select 1 from touchpoints where case_id = $1 and summary is not null
         union all select 1 from follow_ups where case_id = $1 and note is not null`,
        [c.id],
      );
      expect(left.rows, 'free text that landed after the erasure').toEqual([]);
      // Counts of what committed before the erasure survive it.
      const committed = results.slice(0, -1).filter((r) => r.statusCode === 201 && 'direction' in r.json()).length;
      const rows = await t.db.pool.query<{ n: number }>('select count(*)::int as n from touchpoints where case_id = $1', [c.id]);
      expect(rows.rows[0]!.n).toBe(committed);
    }
  });

  it('a flagged case erased before triage cannot be triaged', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(p));
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'x' }), 409, 'case.erased');
  });
});

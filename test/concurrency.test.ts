import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { touchpoints } from '../src/db/schema/index.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
let programId: string;
let lead: Who;
let sam: Who;

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { defaultMaxCaseload: 15 }));
});
afterAll(() => t.close());

describe('concurrency', () => {
  it('concurrent PATCHes with the same If-Match: exactly one wins, the rest get 412', async () => {
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId));
    const results = await Promise.all(
      ['low', 'high', 'medium', 'low', 'high'].map((riskLevel) =>
        call(t, lead, 'PATCH', `/v1/cases/${c.id}`, { riskLevel }, { 'if-match': '"v1"' }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 412, 412, 412, 412]);
    const read = await call(t, lead, 'GET', `/v1/cases/${c.id}`);
    expect(read.headers.etag).toBe('"v2"');
  });

  it('concurrent replays of one Idempotency-Key create exactly one touchpoint', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const body = { direction: 'outbound', channel: 'direct_message', occurredAt: new Date().toISOString() };
    const headers = { 'idempotency-key': `tp-${c.id}` };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, body, headers)),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    const created = results.filter((r) => r.statusCode === 201).map((r) => r.json().id);
    expect(new Set(created).size).toBe(1);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('idempotency.in_flight');
    expect(await t.db.db.select().from(touchpoints).where(eq(touchpoints.caseId, c.id))).toHaveLength(1);
    // After it finished, a replay returns the original response.
    const replay = await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, body, headers);
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(results.find((r) => r.statusCode === 201)!.json());
  });

  it('20 concurrent assignments to an intervener one below cap: exactly one succeeds', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' }, { defaultMaxCaseload: 3 });
    await activeCase(t, l, p, i.id);
    await activeCase(t, l, p, i.id);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      const c = await ok<{ id: string }>(t, l, 'POST', '/v1/cases', flagBody(p));
      await ok(t, l, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'r' });
      await ok(t, l, 'POST', `/v1/cases/${c.id}/approve`, {});
      ids.push(c.id);
    }
    const results = await Promise.all(ids.map((id) => call(t, l, 'POST', `/v1/cases/${id}/assignment`, { intervenerId: i.id })));
    const ok200 = results.filter((r) => r.statusCode === 200);
    expect(ok200).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'staff.over_capacity')).toBe(true);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(19);
  });

  it('two analysts flagging the same profile at once open one case', async () => {
    const body = flagBody(programId);
    const a = await t.staff('analyst', programId);
    const results = await Promise.all(Array.from({ length: 6 }, () => call(t, a, 'POST', '/v1/cases', body)));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'case.duplicate')).toBe(true);
  });
});

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

/** Characters no text field accepts, and those only single-line fields refuse. */
const NEVER = {
  nul: '\u0000',
  bell: '\u0007',
  del: '\u007f',
  c1: '\u0085',
  loneHigh: '\ud800',
  loneLow: '\udc00',
  rlo: '\u202e',
  isolate: '\u2067',
};
const NOT_IN_A_LINE = { tab: '\t', lf: '\n', cr: '\r' };

describe('text the database cannot store or a reader cannot see is refused at the edge', () => {
  it('every free-text and single-line field of a flag refuses it with 400 naming the field; nothing is stored', async () => {
    const { programId: p, analyst } = await cast(t, { analyst: 'analyst' });
    const fields: [string, (v: string) => Record<string, unknown>, boolean][] = [
      ['body.profile.handle', (v) => ({ profile: { platform: 'other', handle: `h${v}x` } }), true],
      ['body.profile.displayName', (v) => ({ profile: { platform: 'x', handle: 'okname', displayName: `D${v}` } }), true],
      ['body.indicators.0.kind', (v) => ({ indicators: [{ kind: `k${v}` }] }), true],
      ['body.indicators.0.note', (v) => ({ indicators: [{ kind: 'k', note: `n${v}` }] }), false],
      ['body.indicators.0.evidenceUrl', (v) => ({ indicators: [{ kind: 'k', evidenceUrl: `https://example.org/a${v}b` }] }), true],
    ];
    for (const [path, build, singleLine] of fields) {
      const bad = { ...NEVER, ...(singleLine ? NOT_IN_A_LINE : {}) };
      for (const [name, ch] of Object.entries(bad)) {
        const res = await call(t, analyst, 'POST', '/v1/cases', flagBody(p, build(ch)));
        const body = expectProblem(res, 400, 'request.invalid');
        expect(
          (body['errors'] as { path: string }[]).map((e) => e.path),
          `${path} with ${name}`,
        ).toContain(path);
        expect(res.body).not.toContain(ch);
      }
    }
    // Tab and line breaks are fine in free text; surrogate pairs (emoji) anywhere.
    const fine = await call(
      t,
      analyst,
      'POST',
      '/v1/cases',
      flagBody(p, { indicators: [{ kind: 'post 😀', note: 'line one\nline two\tend' }] }),
    );
    expect(fine.statusCode, fine.body).toBe(201);
    const stored = await t.db.pool.query<{ n: number }>('select count(*)::int as n from cases where program_id = $1', [p]);
    expect(stored.rows[0]!.n).toBe(1);
  });

  it('touchpoint summaries, follow-up notes, concerns, reasons and names refuse it too', async () => {
    const { programId: p, lead, sam, admin } = await cast(t, { lead: 'lead', sam: 'intervener', admin: 'admin' });
    const c = await activeCase(t, lead, p, sam.id);
    const attempts: [typeof lead, string, (v: string) => unknown, string][] = [
      [
        sam,
        `/v1/cases/${c.id}/touchpoints`,
        (v) => ({ direction: 'outbound', channel: 'comment', occurredAt: now(), summary: `s${v}` }),
        'body.summary',
      ],
      [
        sam,
        `/v1/cases/${c.id}/follow-ups`,
        (v) => ({ dueAt: new Date(Date.now() + 3_600_000).toISOString(), kind: 'check_in', note: `n${v}` }),
        'body.note',
      ],
      [sam, `/v1/cases/${c.id}/safeguarding`, (v) => ({ severity: 'high', concern: `c${v}` }), 'body.concern'],
      [lead, `/v1/cases/${c.id}/reopen`, (v) => ({ reason: `r${v}` }), 'body.reason'],
      [admin, '/v1/programs', (v) => ({ name: `P${v}` }), 'body.name'],
      [admin, '/v1/staff', (v) => ({ programId: p, role: 'intervener', name: `N${v}` }), 'body.name'],
    ];
    for (const [who, url, build, path] of attempts) {
      for (const [name, ch] of Object.entries(NEVER)) {
        const body = expectProblem(await call(t, who, 'POST', url, build(ch)), 400, 'request.invalid');
        expect(
          (body['errors'] as { path: string }[]).map((e) => e.path),
          `${url} with ${name}`,
        ).toContain(path);
      }
    }
    const left = await t.db.pool.query<{ n: number }>(
      'select (select count(*) from touchpoints where case_id = $1)::int + (select count(*) from safeguarding_concerns where case_id = $1)::int as n',
      [c.id],
    );
    expect(left.rows[0]!.n).toBe(0);
  });

  it('times outside [2000-01-01, 2100-01-01) are 400, in bodies and query strings', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    for (const at of [
      '0000-01-01T00:00:00Z',
      '1999-12-31T23:59:59.999Z',
      '2100-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '+275760-09-13T00:00:00Z',
    ]) {
      expectProblem(await call(t, lead, 'POST', '/v1/cases', flagBody(p, { flaggedAt: at })), 400, 'request.invalid');
      expectProblem(
        await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: at }),
        400,
        'request.invalid',
      );
      expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: at, kind: 'check_in' }), 400, 'request.invalid');
      expectProblem(await call(t, sam, 'GET', `/v1/follow-ups?dueFrom=${encodeURIComponent(at)}`), 400, 'request.invalid');
    }
    for (const [from, to] of [
      ['0000-01-01', '2026-01-01'],
      ['1999-12-31', '2026-01-01'],
      ['2026-01-01', '2100-01-01'],
      ['2026-01-01', '9999-01-01'],
    ]) {
      expectProblem(await call(t, lead, 'GET', `/v1/reports/engagement?programId=${p}&from=${from}&to=${to}`), 400, 'request.invalid');
    }
    expect((await call(t, lead, 'POST', '/v1/cases', flagBody(p, { flaggedAt: '2000-01-01T00:00:00Z' }))).statusCode).toBe(201);
  });
});

describe('If-Match is compared strongly', () => {
  it('W/"vN" never matches; "*" and lists are accepted', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const c = await ok<{ id: string; version: number }>(t, lead, 'POST', '/v1/cases', flagBody(p));
    const patch = (ifMatch: string, riskLevel = 'high') =>
      call(t, lead, 'PATCH', `/v1/cases/${c.id}`, { riskLevel }, { 'if-match': ifMatch });
    expectProblem(await patch('W/"v1"'), 412, 'precondition.failed');
    expectProblem(await patch('"v1", W/"v1"'.replace('"v1", ', '"v9", ')), 412, 'precondition.failed');
    expectProblem(await patch('v1'), 412, 'precondition.failed');
    expectProblem(await patch(''), 428, 'precondition.required');
    const listed = await patch('"v7", "v1"');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.headers['etag']).toBe('"v2"');
    const star = await patch('*', 'low');
    expect(star.statusCode).toBe(200);
    expect(star.headers['etag']).toBe('"v3"');
    const admin = await t.staff('admin', null);
    const prog = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', { name: 'If-Match program' });
    expectProblem(
      await call(t, admin, 'PATCH', `/v1/programs/${prog.id}`, { name: 'N' }, { 'if-match': 'W/"v1"' }),
      412,
      'precondition.failed',
    );
    expect((await call(t, admin, 'PATCH', `/v1/programs/${prog.id}`, { name: 'N' }, { 'if-match': '*' })).statusCode).toBe(200);
  });
});

describe('replays re-check scope and are audited; secrets are never replayed', () => {
  it('a replay about a case that has left the caller’s scope is 404, and a replay in scope is audited', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      ann,
    } = await cast(t, { lead: 'lead', analyst: 'analyst', sam: 'intervener', ann: 'intervener' });
    const body = flagBody(p);
    const first = await call(t, analyst, 'POST', '/v1/cases', body, { 'idempotency-key': 'flag-scope-1' });
    expect(first.statusCode).toBe(201);
    const caseId = first.json().id as string;
    const replay = await call(t, analyst, 'POST', '/v1/cases', body, { 'idempotency-key': 'flag-scope-1' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const audited = await t.db.pool.query<{ n: number }>(
      "select count(*)::int as n from audit_log where action = 'idempotency.replay' and case_id = $1 and actor_id = $2",
      [caseId, analyst.id],
    );
    expect(audited.rows[0]!.n).toBe(1);

    // The case becomes active: past triage, the analyst no longer sees it.
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/triage`, { decision: 'accept', reason: 'meets criteria' });
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/approve`, {});
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/assignment`, { intervenerId: sam.id });
    const gone = await call(t, analyst, 'POST', '/v1/cases', body, { 'idempotency-key': 'flag-scope-1' });
    expectProblem(gone, 404, 'case.not_found');
    expect(gone.body).not.toContain(body.profile.handle.replace('@', '').toLowerCase());

    // An intervener's touchpoint replay after reassignment.
    const tp = { direction: 'outbound', channel: 'comment', occurredAt: now(), summary: 'summary-held-by-sam' };
    expect((await call(t, sam, 'POST', `/v1/cases/${caseId}/touchpoints`, tp, { 'idempotency-key': 'tp-scope-1' })).statusCode).toBe(201);
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/assignment`, { intervenerId: ann.id });
    const after = await call(t, sam, 'POST', `/v1/cases/${caseId}/touchpoints`, tp, { 'idempotency-key': 'tp-scope-1' });
    expectProblem(after, 404, 'case.not_found');
    expect(after.body).not.toContain('summary-held-by-sam');
  });

  it('a token or webhook secret shown once is never stored: its replay is 409 idempotency.secret_not_replayed', async () => {
    const { admin, sam } = await cast(t, { admin: 'admin', sam: 'intervener' });
    const first = await call(t, admin, 'POST', `/v1/staff/${sam.id}/tokens`, { label: 'phone' }, { 'idempotency-key': 'token-once' });
    expect(first.statusCode).toBe(201);
    const token = first.json().token as string;
    const again = await call(t, admin, 'POST', `/v1/staff/${sam.id}/tokens`, { label: 'phone' }, { 'idempotency-key': 'token-once' });
    expectProblem(again, 409, 'idempotency.secret_not_replayed');
    expect(again.body).not.toContain(token);
    const stored = await t.db.pool.query<{ body: string | null }>(
      "select response_body as body from idempotency_keys where key = 'token-once'",
    );
    expect(stored.rows).toEqual([{ body: null }]);
    // Not replayed, and not run twice either: still one token.
    const tokens = await t.db.pool.query<{ n: number }>(
      "select count(*)::int as n from api_tokens where staff_id = $1 and label = 'phone'",
      [sam.id],
    );
    expect(tokens.rows[0]!.n).toBe(1);

    const program = { name: 'Webhook program', settings: { staffWebhookUrl: 'https://93.184.216.34/hook' } };
    const created = await call(t, admin, 'POST', '/v1/programs', program, { 'idempotency-key': 'program-once' });
    expect(created.statusCode, created.body).toBe(201);
    const secret = created.json().webhookSecret as string;
    expect(secret).toBeTruthy();
    const replayed = await call(t, admin, 'POST', '/v1/programs', program, { 'idempotency-key': 'program-once' });
    expectProblem(replayed, 409, 'idempotency.secret_not_replayed');
    expect(replayed.body).not.toContain(secret);
    // A program without a webhook has no secret: its replay is the stored response.
    const plain = { name: 'Plain program' };
    const a = await call(t, admin, 'POST', '/v1/programs', plain, { 'idempotency-key': 'program-plain' });
    const b = await call(t, admin, 'POST', '/v1/programs', plain, { 'idempotency-key': 'program-plain' });
    expect(b.statusCode).toBe(201);
    expect(b.json()).toEqual(a.json());
  });
});

describe('list reads record the ids of the cases they showed', () => {
  it('GET /v1/audit?caseId= finds every list that showed the case', async () => {
    const { programId: p, lead, sam, admin } = await cast(t, { lead: 'lead', sam: 'intervener', admin: 'admin' });
    const a = await activeCase(t, lead, p, sam.id);
    const b = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${a.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: now() });
    await ok(t, sam, 'POST', `/v1/cases/${a.id}/safeguarding`, { severity: 'high', concern: 'worried' });
    await ok(t, lead, 'GET', '/v1/cases?limit=1');
    await ok(t, lead, 'GET', '/v1/cases');
    await ok(t, sam, 'GET', '/v1/me/caseload');
    await ok(t, sam, 'GET', '/v1/follow-ups');
    await ok(t, lead, 'GET', '/v1/safeguarding');
    const actions = async (caseId: string) => {
      const page = await ok<{ items: { action: string; requestId: string }[] }>(t, admin, 'GET', `/v1/audit?caseId=${caseId}&limit=200`);
      return page.items.map((e) => e.action);
    };
    const ofA = await actions(a.id);
    for (const action of ['case.list', 'caseload.read', 'follow_up.list', 'safeguarding.list']) expect(ofA, action).toContain(action);
    // The first page (limit=1) showed only the first case.
    expect(ofA.filter((x) => x === 'case.list')).toHaveLength(a.id < b.id ? 2 : 1);
    const ofB = await actions(b.id);
    expect(ofB).toContain('caseload.read');
    expect(ofB).not.toContain('safeguarding.list');
  });
});

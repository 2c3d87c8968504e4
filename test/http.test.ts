import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';

let t: TestApp;
let admin: Who;

beforeAll(async () => {
  t = await createTestApp();
  admin = await t.staff('admin', null);
});
afterAll(() => t.close());

describe('HTTP basics', () => {
  it('healthz and readyz answer', async () => {
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', database: 'ok', migrations: { current: true }, queue: { backend: 'postgres' } });
  });

  it('an unknown route is a problem+json 404', async () => {
    expectProblem(await t.app.inject({ url: '/v1/nope', headers: admin.auth }), 404, 'route.not_found');
  });

  it("echoes a client's request id in the header; problems carry the server's own", async () => {
    const res = await t.app.inject({ url: '/v1/me', headers: { 'x-request-id': 'req-12345678' } });
    expect(res.headers['x-request-id']).toBe('req-12345678');
    const requestId = expectProblem(res, 401)['requestId'];
    expect(requestId).not.toBe('req-12345678');
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const own = await t.app.inject({ url: '/v1/me' });
    expect(own.headers['x-request-id']).toBe(expectProblem(own, 401)['requestId']);
  });

  it('rejects unknown fields with a 400 listing them', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/programs', headers: admin.auth, payload: { name: 'P', colour: 'red' } });
    const body = expectProblem(res, 400, 'request.invalid');
    expect(body['errors']).toEqual([expect.objectContaining({ path: 'body', message: expect.stringContaining('colour') })]);
  });

  it('lists every validation failure with its path', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/programs',
      headers: admin.auth,
      payload: { name: '', settings: { followUpAfter: 'three days', minCellSize: 0 } },
    });
    const body = expectProblem(res, 400, 'request.invalid');
    const paths = (body['errors'] as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['body.name', 'body.settings.followUpAfter', 'body.settings.minCellSize']);
  });

  it('malformed JSON, wrong media type and oversized bodies are 4xx problems', async () => {
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/v1/programs',
        headers: { ...admin.auth, 'content-type': 'application/json' },
        payload: '{"name":',
      }),
      400,
    );
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/v1/programs', headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: 'a,b' }),
      415,
      'request.unsupported_media_type',
    );
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/v1/programs', headers: admin.auth, payload: { name: 'x'.repeat(300_000) } }),
      413,
      'request.body_too_large',
    );
  });

  it('a malformed id in the path is a 400, not a 500', async () => {
    expectProblem(await t.app.inject({ url: '/v1/programs/not-a-uuid', headers: admin.auth }), 400, 'request.invalid');
  });

  it('a cursor we did not issue is a 400', async () => {
    expectProblem(await t.app.inject({ url: '/v1/programs?cursor=garbage', headers: admin.auth }), 400, 'pagination.invalid_cursor');
    expectProblem(await t.app.inject({ url: '/v1/programs?limit=500', headers: admin.auth }), 400, 'request.invalid');
  });

  it('serves a valid OpenAPI 3.1 document describing the routes', async () => {
    const res = await t.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const path of [
      '/v1/me',
      '/v1/programs',
      '/v1/programs/{id}',
      '/v1/staff',
      '/v1/staff/{id}/tokens',
      '/v1/tokens/{id}',
      '/readyz',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/v1/programs'].post.responses).toHaveProperty('401');
    const docs = await t.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('serves the queue board to admins only', async () => {
    const anon = await t.app.inject({ url: '/admin/queues' });
    expect(anon.statusCode).toBe(302);
    expect(anon.headers.location).toBe('/admin/queues/login');
    expect((await t.app.inject({ url: '/admin/queues/login' })).body).toContain('admin');
    const { lead } = await cast(t, { lead: 'lead' });
    expectProblem(await t.app.inject({ url: '/admin/queues/api/queues', headers: lead.auth }), 403, 'auth.forbidden');
    expectProblem(await t.app.inject({ url: '/admin/queues/api/queues' }), 401, 'auth.unauthorized');
    const page = await t.app.inject({ url: '/admin/queues', headers: admin.auth });
    expect(page.statusCode).toBe(200);
    const api = await t.app.inject({ url: '/admin/queues/api/queues', headers: admin.auth });
    expect(api.statusCode).toBe(200);
    expect(
      api
        .json()
        .queues.map((q: { name: string }) => q.name)
        .sort(),
    ).toEqual(['maintenance', 'reminders', 'webhooks']);
    // Signing in with a token sets a cookie that works for the board only.
    expectProblem(await t.app.inject({ method: 'POST', url: '/admin/queues/login', payload: { token: lead.token } }), 401);
    const login = await t.app.inject({ method: 'POST', url: '/admin/queues/login', payload: { token: admin.token } });
    expect(login.statusCode).toBe(204);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(String(login.headers['set-cookie'])).toContain('HttpOnly');
    expect((await t.app.inject({ url: '/admin/queues/api/queues', headers: { cookie } })).statusCode).toBe(200);
    expectProblem(await t.app.inject({ url: '/v1/me', headers: { cookie } }), 401);
  });

  it('exposes Prometheus metrics', async () => {
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('overture_http_request_duration_seconds');
    expect(res.body).toMatch(/overture_queue_depth\{queue="reminders",state="delayed"\} \d+/);
    expect(res.body).toContain('overture_job_duration_seconds');
    expect(res.body).toContain('overture_job_failures_total');
    expect(res.body).toContain('overture_db_queries_total');
  });
});

describe('programs', () => {
  it('creates with defaults, reads with an ETag, patches with If-Match', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/programs',
      headers: admin.auth,
      payload: { name: 'North', settings: { followUpAfter: 'P2D' } },
    });
    expect(created.statusCode).toBe(201);
    const p = created.json();
    expect(p.settings).toMatchObject({ requireApproval: true, defaultMaxCaseload: 15, followUpAfter: 'P2D', staffWebhookUrl: null });
    expect(p.webhookSecret).toBeUndefined();

    const read = await t.app.inject({ url: `/v1/programs/${p.id}`, headers: admin.auth });
    expect(read.headers.etag).toBe('"v1"');

    expectProblem(
      await t.app.inject({ method: 'PATCH', url: `/v1/programs/${p.id}`, headers: admin.auth, payload: { name: 'N' } }),
      428,
      'precondition.required',
    );
    expectProblem(
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/programs/${p.id}`,
        headers: { ...admin.auth, 'if-match': '"v9"' },
        payload: { name: 'N' },
      }),
      412,
      'precondition.failed',
    );
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/programs/${p.id}`,
      headers: { ...admin.auth, 'if-match': '"v1"' },
      payload: { settings: { minCellSize: 3, staffWebhookUrl: 'https://hooks.example.org/overture' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.headers.etag).toBe('"v2"');
    const body = patched.json();
    expect(body.settings).toMatchObject({ followUpAfter: 'P2D', minCellSize: 3, staffWebhookUrl: 'https://hooks.example.org/overture' });
    expect(body.webhookSecret).toMatch(/^whsec_/);
    const again = await t.app.inject({ url: `/v1/programs/${p.id}`, headers: admin.auth });
    expect(again.json().webhookSecret).toBeUndefined();
  });

  it('a lead sees only its own program', async () => {
    const { programId: mine, lead } = await cast(t, { lead: 'lead' });
    const other = await t.program();
    expect((await t.app.inject({ url: `/v1/programs/${mine}`, headers: lead.auth })).statusCode).toBe(200);
    expectProblem(await t.app.inject({ url: `/v1/programs/${other.id}`, headers: lead.auth }), 404, 'program.not_found');
    const list = await t.app.inject({ url: '/v1/programs', headers: lead.auth });
    expect(list.json().items.map((i: { id: string }) => i.id)).toEqual([mine]);
  });

  it('paginates with a keyset cursor', async () => {
    for (let i = 0; i < 3; i++) await t.program();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.app.inject({ url: `/v1/programs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: admin.auth });
      const body: { items: { id: string }[]; nextCursor: string | null } = res.json();
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((i) => i.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(5);
  });

  it('replays an Idempotency-Key and refuses it for another body', async () => {
    const headers = { ...admin.auth, 'idempotency-key': 'create-south-1' };
    const first = await t.app.inject({ method: 'POST', url: '/v1/programs', headers, payload: { name: 'South' } });
    const second = await t.app.inject({ method: 'POST', url: '/v1/programs', headers, payload: { name: 'South' } });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/v1/programs', headers, payload: { name: 'East' } }),
      422,
      'idempotency.key_reused',
    );
  });
});

describe('staff', () => {
  it('creates, lists for a lead, and validates the program', async () => {
    const p = await t.program();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/staff',
      headers: admin.auth,
      payload: { programId: p.id, name: 'Sam', role: 'intervener', specialisms: ['Far_Right'], languages: ['EN', 'de'], maxCaseload: 10 },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      role: 'intervener',
      specialisms: ['far_right'],
      languages: ['en', 'de'],
      maxCaseload: 10,
      active: true,
    });
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/v1/staff', headers: admin.auth, payload: { name: 'X', role: 'lead' } }),
      400,
      'staff.program_required',
    );
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/v1/staff',
        headers: admin.auth,
        payload: { name: 'X', role: 'lead', programId: crypto.randomUUID() },
      }),
      400,
      'staff.unknown_program',
    );
    const lead = await t.staff('lead', p.id);
    const list = await t.app.inject({ url: '/v1/staff', headers: lead.auth });
    expect(list.statusCode).toBe(200);
    const items = list.json().items as { programId: string }[];
    expect(items.length).toBe(2);
    expect(items.every((i) => i.programId === p.id)).toBe(true);
    expectProblem(await t.app.inject({ url: `/v1/staff/${crypto.randomUUID()}`, headers: admin.auth }), 404, 'staff.not_found');
  });
});

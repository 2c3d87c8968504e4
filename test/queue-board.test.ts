import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { BOARD_SESSION_MS } from '../src/domain/staff/board-sessions.js';
import { createTestApp, expectProblem, TEST_SECRET, TestClock, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';

const BOARD = '/admin/queues';
const COOKIE = /^overture_board=([^;]*)(;.*)$/;

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>;

async function signIn(t: TestApp, token: string, headers: Record<string, string> = {}) {
  const res = await t.app.inject({ method: 'POST', url: `${BOARD}/login`, headers, payload: { token } });
  expect(res.statusCode).toBe(204);
  const setCookie = String(res.headers['set-cookie']);
  const [, id, attributes] = COOKIE.exec(setCookie)!;
  return { res, id: id!, attributes: attributes!, cookie: { cookie: `overture_board=${id}` } };
}

/** The attributes of a Set-Cookie header, lower-cased names (`secure`, `max-age`, …). */
function attributesOf(setCookie: string): Map<string, string> {
  return new Map(
    setCookie
      .split(';')
      .slice(1)
      .map((a) => {
        const [k, ...v] = a.trim().split('=');
        return [k!.toLowerCase(), v.join('=')] as [string, string];
      }),
  );
}

const tokenIdOf = async (t: TestApp, staffId: string) =>
  (await t.db.pool.query<{ id: string }>('select id from api_tokens where staff_id = $1', [staffId])).rows[0]!.id;

const boardApi = (t: TestApp, headers: Record<string, string>) => t.app.inject({ url: `${BOARD}/api/queues`, headers });

describe('queue board sign-in: a server-side session, never the token', () => {
  let t: TestApp;
  const clock = new TestClock(new Date('2026-03-02T10:00:00Z'));
  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterAll(() => t.close());

  it('sets a random session id in an HttpOnly, SameSite=Strict cookie for the board path, valid for an hour', async () => {
    const admin = await t.staff('admin', null);
    const { id, res } = await signIn(t, admin.token);
    const setCookie = String(res.headers['set-cookie']);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(setCookie).not.toContain(admin.token);
    expect(setCookie).not.toContain(admin.token.slice(4, 20));
    const attrs = attributesOf(setCookie);
    expect(attrs.has('httponly')).toBe(true);
    expect(attrs.get('samesite')).toBe('Strict');
    expect(attrs.get('path')).toBe(BOARD);
    expect(attrs.get('max-age')).toBe(String(BOARD_SESSION_MS / 1000));
    expect(BOARD_SESSION_MS).toBe(3_600_000);
    // Plain HTTP, no trusted proxy: no Secure (a browser would drop the cookie).
    expect(attrs.has('secure')).toBe(false);
    expect(res.headers['cache-control']).toBe('no-store');

    expect((await boardApi(t, { cookie: `overture_board=${id}` })).statusCode).toBe(200);
    expect((await t.app.inject({ url: BOARD, headers: { cookie: `overture_board=${id}` } })).statusCode).toBe(200);
    // The cookie is the board's only: the API wants a token.
    expectProblem(await t.app.inject({ url: '/v1/me', headers: { cookie: `overture_board=${id}` } }), 401, 'auth.unauthorized');
  });

  it('stores only the keyed hash of the session id, with its admin, token and expiry', async () => {
    const admin = await t.staff('admin', null);
    const { id } = await signIn(t, admin.token);
    const hash = createHmac('sha256', TEST_SECRET).update(id).digest('hex');
    const { rows } = await t.db.pool.query('select * from board_sessions where id_hash = $1', [hash]);
    expect(rows).toHaveLength(1);
    expect(rows[0].staff_id).toBe(admin.id);
    expect(rows[0].token_id).toBe(await tokenIdOf(t, admin.id));
    expect(rows[0].expires_at.getTime()).toBe(clock.now().getTime() + BOARD_SESSION_MS);
    // Neither the session id nor the token is anywhere in the table.
    const dump = JSON.stringify((await t.db.pool.query('select * from board_sessions')).rows);
    expect(dump).not.toContain(id);
    expect(dump).not.toContain(admin.token);
    expect(dump).not.toContain(createHash('sha256').update(id).digest('hex'));
  });

  it('refuses tokens that are not an active admin token, without a cookie', async () => {
    const { lead } = await cast(t, { lead: 'lead' });
    for (const token of [lead.token, `ovt_${'x'.repeat(43)}`, 'not a token', '']) {
      const res = await t.app.inject({ method: 'POST', url: `${BOARD}/login`, payload: { token } });
      expectProblem(res, 401, 'auth.unauthorized');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expectProblem(
      await t.app.inject({ method: 'POST', url: `${BOARD}/login`, payload: { token: 'x', role: 'admin' } }),
      400,
      'request.invalid',
    );
  });

  it('a forged or malformed session id gets 401 (API) or the sign-in page (browser), and its cookie is cleared', async () => {
    const forged = randomBytes(32).toString('base64url');
    for (const value of [forged, 'x', '%E0%A4%A', 'a'.repeat(4000), `${forged}; overture_board=${forged}`, '']) {
      const api = await boardApi(t, { cookie: `overture_board=${value}` });
      expectProblem(api, 401, 'auth.unauthorized');
      expect(String(api.headers['set-cookie'])).toMatch(/^overture_board=; Path=\/admin\/queues; Max-Age=0/);
    }
    const page = await t.app.inject({ url: BOARD, headers: { cookie: `overture_board=${forged}` } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe(`${BOARD}/login`);
    // A session id of another deployment (another secret) is as good as forged.
    const admin = await t.staff('admin', null);
    const { id } = await signIn(t, admin.token);
    await t.db.pool.query('update board_sessions set id_hash = $1 where id_hash = $2', [
      createHmac('sha256', 'another-secret').update(id).digest('hex'),
      createHmac('sha256', TEST_SECRET).update(id).digest('hex'),
    ]);
    expectProblem(await boardApi(t, { cookie: `overture_board=${id}` }), 401, 'auth.unauthorized');
  });

  it('expires an hour after sign-in, not a moment later, and sign-in deletes expired sessions', async () => {
    const admin = await t.staff('admin', null);
    const { id, cookie } = await signIn(t, admin.token);
    clock.advance(BOARD_SESSION_MS - 1000);
    expect((await boardApi(t, cookie)).statusCode).toBe(200);
    clock.advance(1000);
    expectProblem(await boardApi(t, cookie), 401, 'auth.unauthorized');
    const hash = createHmac('sha256', TEST_SECRET).update(id).digest('hex');
    expect((await t.db.pool.query('select 1 from board_sessions where id_hash = $1', [hash])).rowCount).toBe(1);
    await signIn(t, admin.token);
    expect((await t.db.pool.query('select 1 from board_sessions where id_hash = $1', [hash])).rowCount).toBe(0);
    expect((await t.db.pool.query('select 1 from board_sessions where expires_at <= $1', [clock.now()])).rowCount).toBe(0);
  });

  it('ends at once when its token is revoked', async () => {
    const admin = await t.staff('admin', null);
    const other = await t.staff('admin', null);
    const { cookie } = await signIn(t, admin.token);
    const second = await signIn(t, other.token);
    expect((await boardApi(t, cookie)).statusCode).toBe(200);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${await tokenIdOf(t, admin.id)}`, headers: other.auth });
    expect(revoke.statusCode).toBe(204);
    expectProblem(await boardApi(t, cookie), 401, 'auth.unauthorized');
    // Only that token's sessions.
    expect((await boardApi(t, second.cookie)).statusCode).toBe(200);
  });

  it('ends at once when its admin is deactivated, and works again if they are reactivated', async () => {
    const admin = await t.staff('admin', null);
    const other = await t.staff('admin', null);
    const { cookie } = await signIn(t, admin.token);
    const patch = (active: boolean) =>
      t.app.inject({ method: 'PATCH', url: `/v1/staff/${admin.id}`, headers: other.auth, payload: { active } });
    expect((await patch(false)).statusCode).toBe(200);
    expectProblem(await boardApi(t, cookie), 401, 'auth.unauthorized');
    expect((await patch(true)).statusCode).toBe(200);
    expect((await boardApi(t, cookie)).statusCode).toBe(200);
  });

  it('ends when its holder is no longer an admin', async () => {
    const admin = await t.staff('admin', null);
    const { cookie } = await signIn(t, admin.token);
    await t.db.pool.query(`update staff set role = 'lead', program_id = $2 where id = $1`, [admin.id, (await t.program()).id]);
    expectProblem(await boardApi(t, cookie), 401, 'auth.unauthorized');
  });

  it('sign-out deletes the session and clears the cookie', async () => {
    const admin = await t.staff('admin', null);
    const { id, cookie } = await signIn(t, admin.token);
    const out = await t.app.inject({ method: 'POST', url: `${BOARD}/logout`, headers: cookie });
    expect(out.statusCode).toBe(204);
    const attrs = attributesOf(String(out.headers['set-cookie']));
    expect(String(out.headers['set-cookie'])).toMatch(/^overture_board=;/);
    expect(attrs.get('max-age')).toBe('0');
    expect(attrs.get('path')).toBe(BOARD);
    const hash = createHmac('sha256', TEST_SECRET).update(id).digest('hex');
    expect((await t.db.pool.query('select 1 from board_sessions where id_hash = $1', [hash])).rowCount).toBe(0);
    expectProblem(await boardApi(t, cookie), 401, 'auth.unauthorized');
    // Signing out twice, or without a session, is fine.
    expect((await t.app.inject({ method: 'POST', url: `${BOARD}/logout`, headers: cookie })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: `${BOARD}/logout` })).statusCode).toBe(204);
    expectProblem(await t.app.inject({ method: 'POST', url: `${BOARD}/logout`, payload: { all: true } }), 400, 'request.invalid');
  });

  it('a Bearer admin token still works for scripts; other roles get 403, bad tokens 401', async () => {
    const { admin, lead } = await cast(t, { admin: 'admin', lead: 'lead' });
    expect((await boardApi(t, admin.auth)).statusCode).toBe(200);
    expect((await t.app.inject({ url: BOARD, headers: admin.auth })).statusCode).toBe(200);
    expectProblem(await boardApi(t, lead.auth), 403, 'auth.forbidden');
    expectProblem(await boardApi(t, { authorization: `Bearer ovt_${'y'.repeat(43)}` }), 401, 'auth.unauthorized');
    // A bad Authorization header is not rescued by a good cookie: what was sent explicitly is answered.
    const { cookie } = await signIn(t, admin.token);
    expectProblem(await boardApi(t, { ...cookie, authorization: 'Bearer nope' }), 401, 'auth.unauthorized');
  });
});

describe('queue board sign-in never logs or stores the token', () => {
  it('no log line and no table holds the token or the session id', async () => {
    const lines: string[] = [];
    const t = await createTestApp({ logLines: lines });
    try {
      const { admin, lead } = await cast(t, { admin: 'admin', lead: 'lead' });
      const { id, cookie } = await signIn(t, admin.token);
      await boardApi(t, cookie);
      const guess = `ovt_${'M4rk3r'.repeat(8)}`;
      for (const token of [lead.token, guess]) await t.app.inject({ method: 'POST', url: `${BOARD}/login`, payload: { token } });
      await t.app.inject({ method: 'POST', url: `${BOARD}/logout`, headers: cookie });
      expect(lines.length).toBeGreaterThan(3);
      const log = lines.join('\n');
      for (const secret of [admin.token, lead.token, guess, id]) expect(log).not.toContain(secret);
      expect(log).toContain('queue board sign-in refused');
      const { rows } = await t.db.pool.query<{ dump: string }>(
        `select string_agg(t::text, ' ') as dump from (select row_to_json(x)::text as t from board_sessions x
           union all select row_to_json(y)::text from api_tokens y union all select row_to_json(z)::text from staff z) s`,
      );
      for (const secret of [admin.token, lead.token, guess, id]) expect(rows[0]!.dump).not.toContain(secret);
    } finally {
      await t.close();
    }
  });
});

describe('the session cookie is Secure when the request came over TLS', () => {
  let direct: TestApp;
  let proxied: TestApp;
  beforeAll(async () => {
    direct = await createTestApp();
    proxied = await createTestApp({ env: { OVERTURE_TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await direct.close();
    await proxied.close();
  });

  it('behind a trusted proxy that says https: Secure, on sign-in and on sign-out', async () => {
    const admin = await proxied.staff('admin', null);
    const https = { 'x-forwarded-proto': 'https' };
    const { res, cookie } = await signIn(proxied, admin.token, https);
    expect(attributesOf(String(res.headers['set-cookie'])).has('secure')).toBe(true);
    const out = await proxied.app.inject({ method: 'POST', url: `${BOARD}/logout`, headers: { ...https, ...cookie } });
    expect(attributesOf(String(out.headers['set-cookie'])).has('secure')).toBe(true);
    // The same proxy forwarding plain HTTP: no Secure.
    const plain = await signIn(proxied, admin.token, { 'x-forwarded-proto': 'http' });
    expect(attributesOf(String(plain.res.headers['set-cookie'])).has('secure')).toBe(false);
  });

  it('without OVERTURE_TRUST_PROXY a client cannot claim https (X-Forwarded-Proto is ignored)', async () => {
    const admin = await direct.staff('admin', null);
    const { res } = await signIn(direct, admin.token, { 'x-forwarded-proto': 'https' });
    expect(attributesOf(String(res.headers['set-cookie'])).has('secure')).toBe(false);
  });
});

describe('OVERTURE_TRUST_PROXY', () => {
  const env = (value?: string) => ({ OVERTURE_SECRET: TEST_SECRET, ...(value === undefined ? {} : { OVERTURE_TRUST_PROXY: value }) });
  it('takes false, true, a hop count or addresses/CIDRs; off by default', () => {
    expect(loadConfig(env()).trustProxy).toBe(false);
    expect(loadConfig(env('')).trustProxy).toBe(false);
    expect(loadConfig(env('true')).trustProxy).toBe(true);
    expect(loadConfig(env('2')).trustProxy).toBe(2);
    expect(loadConfig(env('10.0.0.0/8, 192.0.2.7,::1, fd00::/8')).trustProxy).toEqual(['10.0.0.0/8', '192.0.2.7', '::1', 'fd00::/8']);
  });
  it('refuses anything else by name, without echoing the value', () => {
    for (const bad of ['yes', '10.0.0.0/33', '127.1', '0x7f000001', 'proxy.internal', '10.0.0.1,', '::1/129', '-1', '10.0.0.0/8/8']) {
      expect(() => loadConfig(env(bad))).toThrow(ConfigError);
      expect(() => loadConfig(env(bad))).toThrow(/OVERTURE_TRUST_PROXY/);
      if (bad.length > 3) expect(() => loadConfig(env(bad))).not.toThrow(bad);
    }
  });
});

describe('every board route is rate limited per address like the API', () => {
  const LIMIT = 3;
  let t: TestApp;
  let admin: Who;
  let session: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp({ rateLimit: { perIp: LIMIT, perToken: 0 } });
    admin = await t.staff('admin', null);
    session = (await signIn(t, admin.token, {})).cookie;
  });
  afterAll(() => t.close());

  const kinds: [string, (ip: string) => Promise<Injected>][] = [
    ['the sign-in page', (ip) => t.app.inject({ url: `${BOARD}/login`, remoteAddress: ip })],
    [
      'sign-in (guessing tokens)',
      (ip) =>
        t.app.inject({
          method: 'POST',
          url: `${BOARD}/login`,
          remoteAddress: ip,
          payload: { token: `ovt_${randomBytes(32).toString('base64url')}` },
        }),
    ],
    ['sign-out', (ip) => t.app.inject({ method: 'POST', url: `${BOARD}/logout`, remoteAddress: ip })],
    ['the board page with a session', (ip) => t.app.inject({ url: BOARD, remoteAddress: ip, headers: session })],
    ['the board page without credentials', (ip) => t.app.inject({ url: BOARD, remoteAddress: ip })],
    ['a static asset', (ip) => t.app.inject({ url: `${BOARD}/static/favicon-32x32.png`, remoteAddress: ip, headers: session })],
    ['an API call with a Bearer token', (ip) => t.app.inject({ url: `${BOARD}/api/queues`, remoteAddress: ip, headers: admin.auth })],
    [
      'guessing session ids',
      (ip) =>
        t.app.inject({
          url: `${BOARD}/api/queues`,
          remoteAddress: ip,
          headers: { cookie: `overture_board=${randomBytes(32).toString('base64url')}` },
        }),
    ],
  ];

  kinds.forEach(([name, send], i) => {
    it(`${name}: ${LIMIT} requests a minute, then 429 problem+json with Retry-After`, async () => {
      const ip = `198.51.100.${i + 10}`;
      const before: number[] = [];
      for (let n = 0; n < LIMIT; n++) before.push((await send(ip)).statusCode);
      expect(before.every((s) => s !== 429)).toBe(true);
      const over = await send(ip);
      expectProblem(over, 429, 'rate_limited');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect(over.headers['set-cookie']).toBeUndefined();
      // Another address is not held back.
      expect((await send(`203.0.113.${i + 10}`)).statusCode).not.toBe(429);
    });
  });
});

/** A Content-Security-Policy, parsed: directive → sources. */
function parseCsp(header: string): Map<string, string[]> {
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name!.toLowerCase(), sources]),
  );
}

/** Whether `policy` lets the page at `origin` load `url` (or run inline text) under `directive`, as CSP Level 3 says for these cases. */
function allows(policy: Map<string, string[]>, directive: string, what: { url: URL } | { inline: string }, origin: string): boolean {
  const fallback: Record<string, string[]> = {
    'script-src-elem': ['script-src', 'default-src'],
    'style-src-elem': ['style-src', 'default-src'],
    'worker-src': ['worker-src', 'child-src', 'script-src', 'default-src'],
  };
  const name = [directive, ...(fallback[directive] ?? ['default-src'])].find((d) => policy.has(d));
  const sources = name ? policy.get(name)! : [];
  if (sources.includes("'none'")) return false;
  if ('inline' in what) {
    const hash = `'sha256-${createHash('sha256').update(what.inline, 'utf8').digest('base64')}'`;
    if (sources.includes(hash)) return true;
    return sources.includes("'unsafe-inline'") && !sources.some((s) => s.startsWith("'sha") || s.startsWith("'nonce-"));
  }
  if (sources.includes("'self'") && what.url.origin === origin) return true;
  if (what.url.protocol === 'data:' && sources.includes('data:')) return true;
  return sources.some((s) => !s.startsWith("'") && s !== 'data:' && (what.url.origin === s || what.url.href.startsWith(s)));
}

const tags = (html: string, name: string) => [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'gi'))].map((m) => m[1]!);
const attr = (attrs: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(attrs)?.[1];
const inlineBodies = (html: string, name: string) =>
  [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>([\\s\\S]*?)</${name}>`, 'gi'))]
    .filter((m) => !/\bsrc=/.test(m[1]!))
    .map((m) => ({ attrs: m[1]!, body: m[2]! }));

describe('the board and its sign-in page are served with a strict CSP', () => {
  let t: TestApp;
  let admin: Who;
  const ORIGIN = 'http://localhost';
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it('the sign-in page runs only its own inline script and style, by hash, and cannot be framed', async () => {
    const res = await t.app.inject({ url: `${BOARD}/login` });
    expect(res.statusCode).toBe(200);
    const csp = parseCsp(String(res.headers['content-security-policy']));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(String(res.headers['content-security-policy'])).not.toMatch(/unsafe|\*|https?:|data:/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    const scripts = inlineBodies(res.body, 'script');
    const styles = inlineBodies(res.body, 'style');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    for (const s of scripts) expect(allows(csp, 'script-src-elem', { inline: s.body }, ORIGIN)).toBe(true);
    for (const s of styles) expect(allows(csp, 'style-src-elem', { inline: s.body }, ORIGIN)).toBe(true);
    // A changed script would be refused: the hash pins the exact text.
    expect(allows(csp, 'script-src-elem', { inline: `${scripts[0]!.body} ` }, ORIGIN)).toBe(false);
    expect(tags(res.body, 'script').filter((a) => /\bsrc=/.test(a))).toEqual([]);
    expect(res.body).not.toMatch(/\sstyle=|\son[a-z]+=/i); // no inline style attributes or handlers
    expect(tags(res.body, 'input').every((a) => attr(a, 'name') === undefined)).toBe(true);
    // What the script calls is on this origin.
    for (const m of scripts[0]!.body.matchAll(/fetch\('([^']+)'/g))
      expect(allows(csp, 'connect-src', { url: new URL(m[1]!, ORIGIN) }, ORIGIN)).toBe(true);
  });

  it("Bull Board's page: every script, stylesheet and image it links is allowed, except Google Fonts; nothing else is", async () => {
    const res = await t.app.inject({ url: BOARD, headers: admin.auth });
    expect(res.statusCode).toBe(200);
    const header = String(res.headers['content-security-policy']);
    const csp = parseCsp(header);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(header).not.toMatch(/unsafe-eval|\*|https?:/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');

    const baseHref = attr(tags(res.body, 'base')[0]!, 'href')!;
    const base = new URL(baseHref, `${ORIGIN}${BOARD}`);
    expect(allows(csp, 'base-uri', { url: base }, ORIGIN)).toBe(true);

    const scripts = tags(res.body, 'script');
    const external = scripts.map((a) => attr(a, 'src')).filter((s): s is string => s !== undefined);
    expect(external.length).toBeGreaterThanOrEqual(3);
    for (const src of external) {
      const url = new URL(src, base);
      expect(allows(csp, 'script-src-elem', { url }, ORIGIN)).toBe(true);
      // …and it is really there, for the signed-in browser.
      const asset = await t.app.inject({ url: url.pathname, headers: admin.auth });
      expect(asset.statusCode).toBe(200);
      expect(String(asset.headers['content-type'])).toMatch(/javascript/);
    }
    // Its only inline <script> is JSON configuration, which a browser never runs.
    for (const s of inlineBodies(res.body, 'script')) {
      expect(attr(s.attrs, 'type')).toBe('application/json');
      expect(() => JSON.parse(s.body)).not.toThrow();
    }
    // Its placeholder's inline <style> (and those CodeMirror injects later) are allowed.
    for (const s of inlineBodies(res.body, 'style')) expect(allows(csp, 'style-src-elem', { inline: s.body }, ORIGIN)).toBe(true);

    const blocked: string[] = [];
    for (const link of tags(res.body, 'link')) {
      const rel = attr(link, 'rel')!;
      const url = new URL(attr(link, 'href')!, base);
      const directive = rel === 'stylesheet' ? 'style-src-elem' : 'img-src';
      if (!allows(csp, directive, { url }, ORIGIN)) {
        blocked.push(url.origin);
        continue;
      }
      const asset = await t.app.inject({ url: url.pathname, headers: admin.auth });
      expect(asset.statusCode).toBe(200);
    }
    expect(blocked).toEqual(['https://fonts.googleapis.com']);
    // The highlight worker, locales and API calls come from the board's own path.
    expect(allows(csp, 'worker-src', { url: new URL('static/js/async/highlight-worker.js', base) }, ORIGIN)).toBe(true);
    expect(allows(csp, 'connect-src', { url: new URL('api/queues', base) }, ORIGIN)).toBe(true);
    expect(allows(csp, 'connect-src', { url: new URL('https://example.org/collect') }, ORIGIN)).toBe(false);
    expect(allows(csp, 'script-src-elem', { inline: 'alert(1)' }, ORIGIN)).toBe(false);
    expect(allows(csp, 'img-src', { url: new URL('data:image/svg+xml,<svg/>') }, ORIGIN)).toBe(true);
  });

  it('the CSP comes with every board response, the redirect to sign in and the problems included', async () => {
    const answers = [
      await t.app.inject({ url: BOARD }),
      await t.app.inject({ url: `${BOARD}/queue/maintenance`, headers: admin.auth }),
      await t.app.inject({ url: `${BOARD}/api/queues` }),
      await t.app.inject({ url: `${BOARD}/static/favicon-32x32.png`, headers: admin.auth }),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([302, 200, 401, 200]);
    for (const r of answers) expect(parseCsp(String(r.headers['content-security-policy'])).get('frame-ancestors')).toEqual(["'none'"]);
  });
});

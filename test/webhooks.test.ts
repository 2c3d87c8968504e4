import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { Job } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/db/ids.js';
import { notifications, programs } from '../src/db/schema/index.js';
import { deliverWebhook, type Fetch, publicOnlyLookup, signature, WebhookTargetRefused } from '../src/domain/notifications/webhook.js';
import { isPublicAddress, type ResolveHost } from '../src/domain/programs/webhook-target.js';
import { processors } from '../workers/index.js';
import type { WorkerDeps } from '../workers/types.js';
import { createTestApp, expectProblem, TEST_SECRET, TestClock, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { call, ok } from './helpers/story.js';

const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

/** A DNS of the test's own (the machine has no outside DNS); answers may change mid-test (rebinding). */
function fakeDns(initial: Record<string, string[]>) {
  const answers = new Map(Object.entries(initial));
  const resolve: ResolveHost = async (hostname) => {
    const found = answers.get(hostname.toLowerCase());
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };
  return { resolve, answers };
}

const dnsAnswers = {
  'hooks.example.org': [PUBLIC_V4, PUBLIC_V6],
  'v6only.example.org': [PUBLIC_V6],
  'mixed.example.org': [PUBLIC_V4, '10.0.0.8'],
  'mixed6.example.org': [PUBLIC_V6, 'fd00::8'],
  'mapped.example.org': [PUBLIC_V4, '::ffff:169.254.169.254'],
  'internal.example.org': ['192.168.10.4'],
  localhost: ['127.0.0.1', '::1'],
  'app.localhost': [PUBLIC_V4],
};

/** Every form the policy refuses without OVERTURE_WEBHOOK_ALLOW_PRIVATE. */
const REFUSED_URLS = [
  'https://127.0.0.1/hook',
  'https://127.8.9.10/hook',
  'https://[::1]/hook',
  'https://10.1.2.3/hook',
  'https://172.16.0.1/hook',
  'https://172.31.255.254/hook',
  'https://192.168.1.1/hook',
  'https://169.254.1.1/hook',
  'https://169.254.169.254/latest/meta-data/',
  'https://100.64.0.1/hook',
  'https://100.127.255.254/hook',
  'https://[fc00::1]/hook',
  'https://[fd12:3456::1]/hook',
  'https://[fe80::1]/hook',
  'https://[::ffff:127.0.0.1]/hook',
  'https://[::ffff:7f00:1]/hook',
  'https://[::ffff:10.0.0.1]/hook',
  'https://[::ffff:a9fe:a9fe]/hook',
  'https://[::127.0.0.1]/hook',
  'https://[64:ff9b::7f00:1]/hook',
  'https://2130706433/hook',
  'https://0x7f000001/hook',
  'https://0x7f.1/hook',
  'https://0177.0.0.1/hook',
  'https://127.1/hook',
  'https://0.0.0.0/hook',
  'https://[::]/hook',
  'https://224.0.0.1/hook',
  'https://[ff02::1]/hook',
  'https://255.255.255.255/hook',
  'https://192.0.2.10/hook',
  'https://240.0.0.1/hook',
  'https://localhost/hook',
  'https://LOCALHOST./hook',
  'https://app.localhost/hook',
  'https://user:pass@hooks.example.org/hook',
  'https://token@hooks.example.org/hook',
  'http://hooks.example.org/hook',
  'https://mixed.example.org/hook',
  'https://mixed6.example.org/hook',
  'https://mapped.example.org/hook',
  'https://internal.example.org/hook',
  'https://nowhere.example.org/hook',
];

async function programCount(t: TestApp): Promise<number> {
  const [r] = await t.db.db.select({ n: sql<number>`count(*)::int` }).from(programs);
  return r!.n;
}

async function storedProgram(t: TestApp, id: string) {
  const [row] = await t.db.db.select().from(programs).where(eq(programs.id, id));
  return row!;
}

async function notificationFor(t: TestApp, programId: string): Promise<string> {
  const staff = await t.staff('intervener', programId);
  const id = uuidv7();
  await t.db.db.insert(notifications).values({ id, staffId: staff.id, programId, kind: 'case_assigned', dedupeKey: `test-${id}` });
  return id;
}

async function notificationRow(t: TestApp, id: string) {
  const [row] = await t.db.db.select().from(notifications).where(eq(notifications.id, id));
  return row!;
}

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A local receiver answering `answer()` (status and headers) to each request. */
async function receiver(answer: () => { status: number; headers?: Record<string, string> } = () => ({ status: 204 })) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      const a = answer();
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { received, port, url: `http://127.0.0.1:${port}/hook`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function workerDeps(t: TestApp, extra: Partial<WorkerDeps>): WorkerDeps {
  return { db: t.db.db, queues: t.queues, clock: t.clock, logger: pino({ level: 'silent' }), secret: TEST_SECRET, ...extra };
}

const deliver = (t: TestApp, notificationId: string, extra: Partial<WorkerDeps>) =>
  processors.webhooks.deliver({ notificationId }, workerDeps(t, extra), {} as Job);

describe('staffWebhookUrl: public https targets only (OVERTURE_WEBHOOK_ALLOW_PRIVATE off)', () => {
  let t: TestApp;
  let admin: Who;
  const dns = fakeDns(dnsAnswers);
  beforeAll(async () => {
    t = await createTestApp({ webhookAllowPrivate: false, resolveHost: dns.resolve });
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it('the app runs with the production default', () => {
    expect(t.webhookAllowPrivate).toBe(false);
  });

  it.each(REFUSED_URLS)('POST /v1/programs refuses %s and creates nothing', async (url) => {
    const before = await programCount(t);
    const res = await call(t, admin, 'POST', '/v1/programs', { name: 'Hooked', settings: { staffWebhookUrl: url } });
    const body = expectProblem(res, 400, 'program.webhook_url_not_allowed');
    expect(body['errors']).toEqual([{ path: 'body.settings.staffWebhookUrl', message: expect.any(String) }]);
    // The problem never echoes the URL or its host (the localhost rule names itself).
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    expect(res.body).not.toContain(url);
    if (!host.includes('localhost')) expect(res.body).not.toContain(host);
    expect(await programCount(t)).toBe(before);
  });

  it('PATCH refuses every such URL and leaves the settings, the version and the secret as they were', async () => {
    const p = await ok<{ id: string; webhookSecret: string; version: number }>(t, admin, 'POST', '/v1/programs', {
      name: 'Hooked',
      settings: { staffWebhookUrl: 'https://hooks.example.org/overture' },
    });
    const lead = await t.staff('lead', p.id);
    const before = await storedProgram(t, p.id);
    for (const url of REFUSED_URLS) {
      for (const who of [admin, lead]) {
        const res = await call(
          t,
          who,
          'PATCH',
          `/v1/programs/${p.id}`,
          { settings: { staffWebhookUrl: url, minCellSize: 9 } },
          { 'if-match': `"v${p.version}"` },
        );
        const body = expectProblem(res, 400, 'program.webhook_url_not_allowed');
        expect(body['errors'], url).toEqual([{ path: 'body.settings.staffWebhookUrl', message: expect.any(String) }]);
      }
    }
    const after = await storedProgram(t, p.id);
    expect(after).toEqual(before);
    expect(after.webhookSecret).toBe(p.webhookSecret);
  });

  it('accepts public https targets by name (every address public, v4 and v6) and by literal', async () => {
    for (const url of [
      'https://hooks.example.org/overture',
      'https://v6only.example.org:8443/h',
      'https://HOOKS.example.org./x',
      `https://${PUBLIC_V4}/h`,
      `https://[${PUBLIC_V6}]/h`,
    ]) {
      const res = await call(t, admin, 'POST', '/v1/programs', { name: 'Hooked', settings: { staffWebhookUrl: url } });
      expect(res.statusCode, res.body).toBe(201);
      const secret = res.json().webhookSecret as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    }
  });

  it('a lead PATCHing another program with a refused URL gets 404, not the URL verdict', async () => {
    const { lead } = await cast(t, { lead: 'lead' });
    const theirs = await t.program();
    const res = await call(
      t,
      lead,
      'PATCH',
      `/v1/programs/${theirs.id}`,
      { settings: { staffWebhookUrl: 'https://127.0.0.1/' } },
      { 'if-match': '"v1"' },
    );
    expectProblem(res, 404, 'program.not_found');
  });

  it('clearing the URL needs no check', async () => {
    const p = await ok<{ id: string; version: number }>(t, admin, 'POST', '/v1/programs', {
      name: 'Hooked',
      settings: { staffWebhookUrl: 'https://hooks.example.org/o' },
    });
    const res = await call(
      t,
      admin,
      'PATCH',
      `/v1/programs/${p.id}`,
      { settings: { staffWebhookUrl: null } },
      { 'if-match': `"v${p.version}"` },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect((await storedProgram(t, p.id)).webhookSecret).toBeNull();
  });
});

describe('isPublicAddress (ipaddr.js)', () => {
  it.each([
    ['8.8.8.8', true],
    [PUBLIC_V6, true],
    ['::ffff:8.8.8.8', true],
    ['127.0.0.1', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::7f00:1', false],
    ['100.64.0.1', false],
    ['fe80::1%eth0', false],
    ['2002:7f00:1::', false],
    ['2001::1', false],
    ['2130706433', false],
    ['0x7f.1', false],
    ['not an address', false],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('delivery: checked again at every attempt (OVERTURE_WEBHOOK_ALLOW_PRIVATE off)', () => {
  let t: TestApp;
  let admin: Who;
  const dns = fakeDns(dnsAnswers);
  beforeAll(async () => {
    t = await createTestApp({ webhookAllowPrivate: false, resolveHost: dns.resolve });
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it('refuses at connect time a name that now resolves to a private address (rebinding): no connection, a failed delivery', async () => {
    let connections = 0;
    const listener = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    dns.answers.set('rebind.example.org', [PUBLIC_V4]);
    try {
      const p = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', {
        name: 'Hooked',
        settings: { staffWebhookUrl: `https://rebind.example.org:${port}/hook` },
      });
      const n = await notificationFor(t, p.id);
      for (const answer of [['127.0.0.1'], [PUBLIC_V4, '127.0.0.1'], ['::ffff:127.0.0.1'], []]) {
        dns.answers.set('rebind.example.org', answer);
        const err = await deliver(t, n, { resolveHost: dns.resolve }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(WebhookTargetRefused);
        const message = (err as Error).message;
        for (const leak of ['rebind', 'example.org', '127.0.0.1', String(port), 'https']) expect(message).not.toContain(leak);
      }
      expect(connections).toBe(0);
      const row = await notificationRow(t, n);
      expect(row.webhookDeliveredAt).toBeNull();
      expect(row.webhookAttempts).toBe(4);
    } finally {
      await new Promise<void>((r) => listener.close(() => r()));
    }
  });

  it('the worker default (no OVERTURE_WEBHOOK_ALLOW_PRIVATE given) refuses a stored URL that predates the rules, before any transport', async () => {
    const calls: string[] = [];
    const recordingFetch: Fetch = async (url) => {
      calls.push(url);
      return { ok: true, status: 204 };
    };
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'http://hooks.example.org/hook',
      'https://u:p@hooks.example.org/',
      'https://0x7f.1/',
    ]) {
      const p = await t.program();
      await t.db.db
        .update(programs)
        .set({ settings: { staffWebhookUrl: url }, webhookSecret: 'whsec_legacy' })
        .where(eq(programs.id, p.id));
      const n = await notificationFor(t, p.id);
      const err = await deliver(t, n, { fetch: recordingFetch }).catch((e: Error) => e);
      expect(err, url).toBeInstanceOf(WebhookTargetRefused);
      expect((err as Error).message).not.toContain(new URL(url).hostname);
      expect((await notificationRow(t, n)).webhookDeliveredAt).toBeNull();
    }
    expect(calls).toEqual([]);
  });

  it('the connect-time lookup hands a public answer to the socket, in the family asked for', async () => {
    const lookup = publicOnlyLookup(dns.resolve);
    const ask = (options: object) =>
      new Promise<unknown>((resolve, reject) =>
        lookup('hooks.example.org', options, (err, address, family) =>
          err ? reject(err) : resolve(family === undefined ? address : { address, family }),
        ),
      );
    expect(await ask({ all: true })).toEqual([
      { address: PUBLIC_V4, family: 4 },
      { address: PUBLIC_V6, family: 6 },
    ]);
    expect(await ask({ family: 6 })).toEqual({ address: PUBLIC_V6, family: 6 });
    expect(await ask({ family: 'IPv4' })).toEqual({ address: PUBLIC_V4, family: 4 });
    await expect(
      new Promise((resolve, reject) =>
        publicOnlyLookup(dns.resolve)('nowhere.example.org', { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
      ),
    ).rejects.toBeInstanceOf(WebhookTargetRefused);
  });
});

describe('delivery to a local receiver (OVERTURE_WEBHOOK_ALLOW_PRIVATE=true)', () => {
  let t: TestApp;
  let admin: Who;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await createTestApp({ webhookAllowPrivate: true, clock });
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it('still refuses credentials in the URL', async () => {
    const res = await call(t, admin, 'POST', '/v1/programs', {
      name: 'Hooked',
      settings: { staffWebhookUrl: 'http://u:p@127.0.0.1:9/hook' },
    });
    expectProblem(res, 400, 'program.webhook_url_not_allowed');
  });

  it('carries Standard Webhooks headers that the standardwebhooks package verifies, stable id across retries', async () => {
    let calls = 0;
    const hook = await receiver(() => ({ status: ++calls === 1 ? 500 : 204 }));
    try {
      const p = await ok<{ id: string; webhookSecret: string }>(t, admin, 'POST', '/v1/programs', {
        name: 'Hooked',
        settings: { staffWebhookUrl: hook.url },
      });
      expect(p.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const n = await notificationFor(t, p.id);
      await expect(deliver(t, n, { webhookAllowPrivate: true })).rejects.toThrow('webhook answered 500');
      const first = Math.floor(clock.now().getTime() / 1000);
      clock.advance(7_000);
      await expect(deliver(t, n, { webhookAllowPrivate: true })).resolves.toEqual({ outcome: 'delivered' });
      expect(hook.received).toHaveLength(2);

      const wh = new Webhook(p.webhookSecret);
      for (const [i, r] of hook.received.entries()) {
        expect(r.headers['webhook-id']).toBe(n);
        expect(r.headers['webhook-timestamp']).toBe(String(first + 7 * i));
        expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
        expect(r.headers['x-overture-signature']).toBe(signature(p.webhookSecret, r.body));
        expect(wh.verify(r.body, r.headers as Record<string, string>)).toMatchObject({ id: n, kind: 'case_assigned', programId: p.id });
        expect(() => wh.verify(r.body.replace('case_assigned', 'no_contact'), r.headers as Record<string, string>)).toThrow();
        expect(() => wh.verify(r.body, { ...(r.headers as Record<string, string>), 'webhook-timestamp': String(first + 60) })).toThrow();
      }
      // Another secret does not verify.
      expect(() =>
        new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
          hook.received[1]!.body,
          hook.received[1]!.headers as Record<string, string>,
        ),
      ).toThrow();
      const row = await notificationRow(t, n);
      expect(row.webhookDeliveredAt).toBeInstanceOf(Date);
      expect(row.webhookAttempts).toBe(2);
    } finally {
      await hook.close();
    }
  });

  it('a secret of the old format (whsec_ + base64url of 24 bytes) keeps working: v1 keyed with its 24 bytes', async () => {
    const hook = await receiver();
    try {
      const p = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', { name: 'Hooked', settings: { staffWebhookUrl: hook.url } });
      // 0xfb 0xff in the bytes make `-` and `_` appear in base64url.
      const bytes = Buffer.concat([Buffer.from([0xfb, 0xef, 0xff, 0xfb, 0xef, 0xff]), randomBytes(18)]);
      const legacy = `whsec_${bytes.toString('base64url')}`;
      expect(legacy).toMatch(/[-_]/);
      await t.db.db.update(programs).set({ webhookSecret: legacy }).where(eq(programs.id, p.id));
      const n = await notificationFor(t, p.id);
      await deliver(t, n, { webhookAllowPrivate: true });
      const r = hook.received[0]!;
      expect(r.headers['x-overture-signature']).toBe(signature(legacy, r.body));
      const strict = `whsec_${bytes.toString('base64')}`;
      expect(new Webhook(strict).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ id: n });
    } finally {
      await hook.close();
    }
  });

  it('never follows a redirect: a 307 to another local port is a failed delivery and that port receives nothing', async () => {
    const elsewhere = await receiver();
    const hook = await receiver(() => ({ status: 307, headers: { location: elsewhere.url } }));
    try {
      const p = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', { name: 'Hooked', settings: { staffWebhookUrl: hook.url } });
      const n = await notificationFor(t, p.id);
      const err = await deliver(t, n, { webhookAllowPrivate: true }).catch((e: Error) => e);
      expect((err as Error).message).toBe('webhook answered 307');
      expect(hook.received).toHaveLength(1);
      expect(elsewhere.received).toHaveLength(0);
      expect((await notificationRow(t, n)).webhookDeliveredAt).toBeNull();
    } finally {
      await hook.close();
      await elsewhere.close();
    }
  });

  it('a network failure is a failed delivery whose message names no address or port', async () => {
    const gone = await receiver();
    await gone.close();
    const p = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', { name: 'Hooked', settings: { staffWebhookUrl: gone.url } });
    const n = await notificationFor(t, p.id);
    const err = await deliver(t, n, { webhookAllowPrivate: true }).catch((e: Error) => e);
    expect((err as Error).message).toBe('webhook delivery failed (ECONNREFUSED)');
  });

  it('deliverWebhook without options is the safe default: a loopback target is refused', async () => {
    const hook = await receiver();
    try {
      const p = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', {
        name: 'Hooked',
        settings: { staffWebhookUrl: hook.url.replace('http:', 'https:') },
      });
      const n = await notificationFor(t, p.id);
      await expect(deliverWebhook(t.db.db, t.clock, n)).rejects.toBeInstanceOf(WebhookTargetRefused);
      expect(hook.received).toHaveLength(0);
    } finally {
      await hook.close();
    }
  });
});

import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { parseDuration } from '../src/domain/programs/duration.js';
import { programSettingsPatchSchema } from '../src/domain/programs/settings.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import type { Who } from './helpers/cast.js';

const DAY = 86_400_000;
const accepts = (v: string) => programSettingsPatchSchema.safeParse({ followUpAfter: v }).success;

/** Strings in (and just around) the grammar: every unit optional, leading zeros, up to 4 decimals. */
const number = (max: number) =>
  fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 3 })).map(([n, zeros]) => '0'.repeat(zeros) + String(n));
const unit = (max: number, letter: string) =>
  fc.option(
    number(max).map((n) => n + letter),
    { nil: '' },
  );
const durationText = fc
  .record({
    w: unit(600, 'W'),
    d: unit(4000, 'D'),
    h: unit(100_000, 'H'),
    m: unit(6_000_000, 'M'),
    s: fc.option(
      fc
        .tuple(fc.oneof(number(60), number(400_000_000)), fc.option(fc.stringMatching(/^\d{1,4}$/), { nil: '' }))
        .map(([s, f]) => (f ? `${s}.${f}S` : `${s}S`)),
      { nil: '' },
    ),
  })
  .map(({ w, d, h, m, s }) => `P${w}${d}${h || m || s ? `T${h}${m}${s}` : ''}`);
/** The everyday forms, near the lower bound and on it. */
const plainText = fc.oneof(
  number(120).map((n) => `PT${n}S`),
  fc.tuple(number(3), fc.stringMatching(/^\d{1,4}$/)).map(([n, f]) => `PT${n}.${f}S`),
  number(4000).map((n) => `P${n}D`),
  number(600).map((n) => `P${n}W`),
  number(90_000).map((n) => `PT${n}H`),
);

describe('duration settings', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client(inject('adminUrl'));
    await client.connect();
    // interval output and epoch extraction do not depend on the zone, but pin it anyway.
    await client.query(`set timezone = 'UTC'`);
  });
  afterAll(() => client.end());

  const postgresMs = async (v: string) =>
    Number((await client.query<{ ms: string }>('select extract(epoch from $1::interval) * 1000 as ms', [v])).rows[0]!.ms);

  it('for every duration the schema accepts, parseDuration equals PostgreSQL reading it as an interval', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(durationText, plainText).filter(accepts), async (v) => {
        expect(parseDuration(v)).toBe(await postgresMs(v));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly PT1S to P3660D', async () => {
    for (const [v, ms] of [
      ['PT1S', 1000],
      ['PT1.000S', 1000],
      ['P3660D', 3660 * DAY],
      ['P522W6D', 3660 * DAY],
      ['PT87840H', 3660 * DAY],
      ['PT316224000S', 3660 * DAY],
      ['P3659DT23H59M59.999S', 3660 * DAY - 1],
      ['P1W2DT3H4M5.678S', 788_645_678],
    ] as const) {
      expect(accepts(v), v).toBe(true);
      expect(parseDuration(v), v).toBe(ms);
      expect(await postgresMs(v), v).toBe(ms);
    }
    for (const v of ['PT0.999S', 'P3660DT1S', 'P3660DT0.001S', 'P523W', 'PT0S', 'P0D', 'PT0.001S', 'P999999999W']) {
      expect(accepts(v), v).toBe(false);
    }
  });

  it('refuses anything outside the grammar: no calendar units, sub-millisecond fractions, huge digit strings, NaN or Infinity', () => {
    for (const v of [
      '',
      'P',
      'PT',
      'P1DT',
      'P1Y',
      'P1M',
      'P1MT1S',
      'pt1s',
      '-PT1S',
      'PT-1S',
      '+PT1S',
      ' PT1S',
      'PT1S ',
      'PT1S\n',
      'PT1.0001S',
      'PT1.S',
      'PT.5S',
      'PT1,5S',
      'P1.5D',
      'PT1.5H',
      'PT1e3S',
      'PT0x10S',
      'P0000000001D',
      'PT0000000001S',
      `PT${'9'.repeat(400)}S`,
      'PTNaNS',
      'PTInfinityS',
      'NaN',
      'Infinity',
      'P1D2W',
      'PT1S1M',
      'P１D',
    ]) {
      expect(parseDuration(v), JSON.stringify(v)).toBeUndefined();
      expect(accepts(v), JSON.stringify(v)).toBe(false);
    }
    expect(programSettingsPatchSchema.safeParse({ followUpAfter: 3 }).success).toBe(false);
    expect(programSettingsPatchSchema.safeParse({ followUpAfter: null }).success).toBe(false);
  });

  it('OVERTURE_RECONCILE_INTERVAL has the same bounds', () => {
    expect(loadConfig({ OVERTURE_RECONCILE_INTERVAL: 'PT1S' }).reconcileEveryMs).toBe(1000);
    expect(loadConfig({ OVERTURE_RECONCILE_INTERVAL: 'P3660D' }).reconcileEveryMs).toBe(3660 * DAY);
    for (const v of ['PT0.999S', 'P3660DT1S', 'P999999999W', 'PT1.0001S']) {
      expect(() => loadConfig({ OVERTURE_RECONCILE_INTERVAL: v }), v).toThrow(ConfigError);
      expect(() => loadConfig({ OVERTURE_RECONCILE_INTERVAL: v }), v).toThrow('OVERTURE_RECONCILE_INTERVAL');
    }
  });
});

describe('duration settings over HTTP', () => {
  let t: TestApp;
  let admin: Who;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it.each([
    ['noContactAlertAfter', 'P999999999W'],
    ['safeguardingAckWithin', 'PT0.001S'],
    ['followUpAfter', 'PT0.999S'],
    ['retentionClosed', 'P3660DT1S'],
    ['overdueGrace', 'PT1.0001S'],
  ])('%s: %s → 400 naming the field, on create and on update', async (key, value) => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/programs',
      headers: admin.auth,
      payload: { name: 'P', settings: { [key]: value } },
    });
    const body = expectProblem(created, 400, 'request.invalid');
    expect((body['errors'] as { path: string }[]).map((e) => e.path)).toEqual([`body.settings.${key}`]);

    const p = await t.program();
    const read = await t.app.inject({ method: 'GET', url: `/v1/programs/${p.id}`, headers: admin.auth });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/programs/${p.id}`,
      headers: { ...admin.auth, 'if-match': String(read.headers['etag']) },
      payload: { settings: { [key]: value } },
    });
    const patchBody = expectProblem(patched, 400, 'request.invalid');
    expect((patchBody['errors'] as { path: string }[]).map((e) => e.path)).toEqual([`body.settings.${key}`]);
  });

  it('the boundaries themselves are accepted', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/programs',
      headers: admin.auth,
      payload: { name: 'Bounds', settings: { safeguardingAckWithin: 'PT1S', retentionClosed: 'P3660D' } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().settings).toMatchObject({ safeguardingAckWithin: 'PT1S', retentionClosed: 'P3660D' });
  });
});

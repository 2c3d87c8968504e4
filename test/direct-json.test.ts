import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseloadSchema } from '../src/http/schemas/caseload.js';
import { caseSchema } from '../src/http/schemas/cases.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, flagBody, ok } from './helpers/story.js';

/**
 * The hot reads (GET /v1/cases/{id}, GET /v1/me/caseload) are written as JSON directly instead
 * of through the zod encoder (bench/RESULTS.md). What they send must be exactly what the encoder
 * would send: decoding a body with the published schema and encoding it again gives the same
 * body, key for key (an extra field, a wrong time format or a missing null would differ).
 */
let t: TestApp;
let programId: string;
let lead: Who;
let sam: Who;
let analyst: Who;

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, sam, analyst } = await cast(t, { lead: 'lead', sam: 'intervener', analyst: 'analyst' }));
});
afterAll(() => t.close());

const roundTrip = (schema: typeof caseSchema | typeof caseloadSchema, body: string) =>
  JSON.stringify(schema.encode(schema.parse(JSON.parse(body)) as never));

describe('responses written as JSON directly', () => {
  it('GET /v1/cases/{id} is what caseSchema encodes, for cases with and without their optional parts', async () => {
    const flagged = await ok<{ id: string }>(
      t,
      analyst,
      'POST',
      '/v1/cases',
      flagBody(programId, { indicators: [{ kind: 'uses_slogans' }] }),
    );
    const attested = await ok<{ id: string }>(
      t,
      analyst,
      'POST',
      '/v1/cases',
      flagBody(programId, { publicness: { accountPublic: true, contentPublic: true, checkedAt: new Date().toISOString() } }),
    );
    const active = await activeCase(t, lead, programId, sam.id, {
      profile: {
        platform: 'telegram',
        handle: '@Direct_Json',
        displayName: 'Zoë "quoted" \\ back‘slash’ 🙂',
        url: 'https://t.me/Direct_Json',
      },
    });
    await ok(t, sam, 'POST', `/v1/cases/${active.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'paid_message',
      occurredAt: new Date().toISOString(),
      approaches: ['empathetic'],
      costCents: 100,
    });
    for (const [who, id] of [
      [lead, flagged.id],
      [lead, attested.id],
      [sam, active.id],
      [lead, active.id],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/cases/${id}`, headers: who.auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(roundTrip(caseSchema, res.body));
    }
  });

  it('GET /v1/me/caseload is what caseloadSchema encodes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/caseload', headers: sam.auth });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).items.length).toBeGreaterThan(0);
    expect(res.body).toBe(roundTrip(caseloadSchema, res.body));
  });
});

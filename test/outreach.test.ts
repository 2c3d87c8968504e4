import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFreeText, findIdentifier } from '../src/domain/text/identifiers.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

interface Account {
  id: string;
  programId: string;
  platform: string;
  label: string;
  disclosure: string;
  createdBy: string;
  createdAt: string;
  retiredAt: string | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const accountsUrl = (programId: string) => `/v1/programs/${programId}/outreach-accounts`;
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const newAccount = (lead: Who, programId: string, body: Record<string, unknown> = {}) =>
  ok<Account>(t, lead, 'POST', accountsUrl(programId), { platform: 'x', label: 'Programme account', disclosure: 'organisation', ...body });
const outbound = (who: Who, caseId: string, extra: Record<string, unknown> = {}) =>
  call(t, who, 'POST', `/v1/cases/${caseId}/touchpoints`, {
    direction: 'outbound',
    channel: 'direct_message',
    occurredAt: ago(30),
    ...extra,
  });
const firstAccountOf = async (caseId: string) =>
  (await t.db.pool.query<{ id: string | null }>('select first_outreach_account_id as id from cases where id = $1', [caseId])).rows[0]!.id;

describe('findIdentifier', () => {
  it('finds URLs, www, domains with a path, common bare domains, emails and @handles', () => {
    const cases: [string, string][] = [
      ['see https://x.com/someone/status/1', 'url'],
      ['HTTP://EXAMPLE.ORG', 'url'],
      ['posted on www.example.org yesterday', 'url'],
      ['the channel example.com/path was shared', 'url'],
      ['moved to t.me/somechannel', 'url'],
      ['via bit.ly', 'url'],
      ['wrote to them at someone@example.org', 'email'],
      ['their friend @name replied', 'handle'],
      ['@name', 'handle'],
      ['(@Some_Body.)', 'handle'],
      ['full-width ＠name too', 'handle'],
    ];
    for (const [text, kind] of cases) expect(findIdentifier(text), text).toBe(kind);
  });

  it('passes ordinary sentences: times, a lone @, abbreviations, file names', () => {
    for (const text of [
      'They asked for time to think; agreed to check in after the weekend.',
      'Call back at 5pm',
      'meet @5pm or @ 10:30',
      'a lone @ sign',
      'e.g. the video, i.e. the second one',
      'Node.js and Vue.js came up',
      'no.He/she did not say',
      'Costs $5 @ the shop',
      'Reposts a recruitment video',
    ]) {
      expect(findIdentifier(text), text).toBeNull();
    }
  });

  it('checkFreeText names the first offending field and does nothing when the setting is off', () => {
    expect(() => checkFreeText({ freeTextIdentifierCheck: true }, { 'body.a': 'fine', 'body.b': 'see @x', 'body.c': null })).toThrow(
      expect.objectContaining({
        status: 422,
        code: 'text.contains_identifier',
        extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'body.b' })] }),
      }),
    );
    expect(() => checkFreeText({ freeTextIdentifierCheck: false }, { 'body.b': 'see @x https://x.com' })).not.toThrow();
  });
});

describe('publicness', () => {
  it('is stored when given and read back on the case; none reads as null', async () => {
    const { programId, analyst } = await cast(t, { analyst: 'analyst' });
    const checkedAt = ago(10);
    const c = await ok<{ id: string; publicness: unknown }>(
      t,
      analyst,
      'POST',
      '/v1/cases',
      flagBody(programId, { publicness: { accountPublic: true, contentPublic: false, checkedAt } }),
    );
    expect(c.publicness).toEqual({ accountPublic: true, contentPublic: false, checkedAt: new Date(checkedAt).toISOString() });
    expect((await ok<{ publicness: unknown }>(t, analyst, 'GET', `/v1/cases/${c.id}`)).publicness).toEqual(c.publicness);
    const bare = await ok<{ publicness: unknown }>(t, analyst, 'POST', '/v1/cases', flagBody(programId));
    expect(bare.publicness).toBeNull();
    expectProblem(
      await call(
        t,
        analyst,
        'POST',
        '/v1/cases',
        flagBody(programId, {
          publicness: { accountPublic: true, contentPublic: true, checkedAt: new Date(Date.now() + 3_600_000).toISOString() },
        }),
      ),
      400,
      'case.publicness_in_future',
    );
    expectProblem(
      await call(t, analyst, 'POST', '/v1/cases', flagBody(programId, { publicness: { accountPublic: true } })),
      400,
      'request.invalid',
    );
  });

  it('under requirePublicnessAttestation, a flag without both true is 422', async () => {
    const { programId, analyst } = await cast(t, { analyst: 'analyst' }, { requirePublicnessAttestation: true });
    const checkedAt = ago(5);
    for (const publicness of [
      undefined,
      { accountPublic: true, contentPublic: false, checkedAt },
      { accountPublic: false, contentPublic: true, checkedAt },
    ]) {
      const body = expectProblem(
        await call(t, analyst, 'POST', '/v1/cases', flagBody(programId, publicness ? { publicness } : {})),
        422,
        'case.publicness_unattested',
      );
      expect(body['errors']).toEqual([expect.objectContaining({ path: 'body.publicness' })]);
    }
    const { rows } = await t.db.pool.query('select count(*)::int as n from cases where program_id = $1', [programId]);
    expect(rows[0].n).toBe(0);
    await ok(t, analyst, 'POST', '/v1/cases', flagBody(programId, { publicness: { accountPublic: true, contentPublic: true, checkedAt } }));
  });
});

describe('outreach accounts', () => {
  it('a lead registers (idempotently), program staff list, a lead retires once', async () => {
    const { programId, lead, sam, analyst, evaluator, dpo } = await cast(t, {
      lead: 'lead',
      sam: 'intervener',
      analyst: 'analyst',
      evaluator: 'evaluator',
      dpo: 'dpo',
    });
    const other = await cast(t, { lead: 'lead', sam: 'intervener' });
    const body = { platform: 'x', label: 'Programme account', disclosure: 'organisation' };
    const res = await call(t, lead, 'POST', accountsUrl(programId), body, { 'idempotency-key': 'acct-1' });
    expect(res.statusCode).toBe(201);
    const a = res.json() as Account;
    expect(a).toMatchObject({
      programId,
      platform: 'x',
      label: 'Programme account',
      disclosure: 'organisation',
      createdBy: lead.id,
      retiredAt: null,
    });
    const replay = await call(t, lead, 'POST', accountsUrl(programId), body, { 'idempotency-key': 'acct-1' });
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(a);
    const named = await newAccount(lead, programId, {
      platform: 'instagram',
      label: 'Sam (named, works for the programme)',
      disclosure: 'named_person',
    });

    // There is no undisclosed persona to register.
    expectProblem(await call(t, lead, 'POST', accountsUrl(programId), { ...body, disclosure: 'persona' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'POST', accountsUrl(programId), body), 403, 'auth.forbidden');
    expectProblem(await call(t, other.lead, 'POST', accountsUrl(programId), body), 404, 'program.not_found');

    for (const who of [lead, sam, analyst, evaluator, dpo]) {
      const page = await ok<{ items: Account[] }>(t, who, 'GET', accountsUrl(programId));
      expect(page.items.map((x) => x.id)).toEqual([a.id, named.id]);
    }
    expectProblem(await call(t, other.sam, 'GET', accountsUrl(programId)), 404, 'program.not_found');

    expectProblem(await call(t, other.lead, 'POST', `/v1/outreach-accounts/${a.id}/retire`), 404, 'outreach_account.not_found');
    expectProblem(await call(t, sam, 'POST', `/v1/outreach-accounts/${a.id}/retire`), 403, 'auth.forbidden');
    const retired = await ok<Account>(t, lead, 'POST', `/v1/outreach-accounts/${a.id}/retire`);
    expect(retired.retiredAt).not.toBeNull();
    expectProblem(await call(t, lead, 'POST', `/v1/outreach-accounts/${a.id}/retire`), 409, 'outreach_account.already_retired');
    expect((await ok<{ items: Account[] }>(t, sam, 'GET', accountsUrl(programId))).items[0]!.retiredAt).toBe(retired.retiredAt);
  });

  it('an outbound touchpoint names a live account of its program and platform; required under requireOutreachAccount', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { requireOutreachAccount: true });
    const other = await cast(t, { lead: 'lead' });
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(120) }); // flagBody flags on x
    const live = await newAccount(lead, programId);
    const instagram = await newAccount(lead, programId, { platform: 'instagram' });
    const retired = await newAccount(lead, programId);
    await ok(t, lead, 'POST', `/v1/outreach-accounts/${retired.id}/retire`);
    const foreign = await newAccount(other.lead, other.programId);

    const refusals: [Record<string, unknown>, string][] = [
      [{}, 'missing'],
      [{ outreachAccountId: crypto.randomUUID() }, 'unknown'],
      [{ outreachAccountId: retired.id }, 'retired'],
      [{ outreachAccountId: foreign.id }, 'another program’s'],
      [{ outreachAccountId: instagram.id }, 'another platform’s'],
    ];
    for (const [extra, why] of refusals) {
      const body = expectProblem(await outbound(sam, c.id, extra), 422, 'touchpoint.outreach_account_invalid');
      expect(body['errors'], why).toEqual([expect.objectContaining({ path: 'body.outreachAccountId' })]);
    }
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'direct_message',
        occurredAt: ago(20),
        outreachAccountId: live.id,
      }),
      422,
      'touchpoint.outreach_account_invalid',
    );
    const { rows } = await t.db.pool.query('select count(*)::int as n from touchpoints where case_id = $1', [c.id]);
    expect(rows[0].n).toBe(0);

    const res = await outbound(sam, c.id, { outreachAccountId: live.id });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ outreachAccountId: live.id });
    // An inbound message needs none, even under the setting.
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'inbound', channel: 'direct_message', occurredAt: ago(20) });
    const listed = await ok<{ items: { outreachAccountId: string | null }[] }>(t, sam, 'GET', `/v1/cases/${c.id}/touchpoints`);
    expect(listed.items.map((x) => x.outreachAccountId)).toEqual([live.id, null]);
  });

  it('without the setting an account is optional; the case keeps its first outbound message’s account through late logs and voids', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(120) });
    const a = await newAccount(lead, programId, { label: 'A' });
    const b = await newAccount(lead, programId, { label: 'B' });
    expect(await firstAccountOf(c.id)).toBeNull();
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: ago(40) });
    // Sent first without an account named: the first outbound message names none.
    expect(await firstAccountOf(c.id)).toBeNull();
    const fromA = (await outbound(sam, c.id, { occurredAt: ago(30), outreachAccountId: a.id })).json() as { id: string };
    expect(await firstAccountOf(c.id)).toBeNull();
    // Logged late, but sent before either: it is the first outbound message now.
    const fromB = (await outbound(sam, c.id, { occurredAt: ago(50), outreachAccountId: b.id })).json() as { id: string };
    expect(await firstAccountOf(c.id)).toBe(b.id);
    await ok(t, sam, 'POST', `/v1/touchpoints/${fromB.id}/void`, { reason: 'Logged on the wrong case' });
    expect(await firstAccountOf(c.id)).toBeNull();
    const [first] = (
      await t.db.pool.query<{ id: string }>(
        "select id from touchpoints where case_id = $1 and outreach_account_id is null and direction = 'outbound'",
        [c.id],
      )
    ).rows;
    await ok(t, lead, 'POST', `/v1/touchpoints/${first!.id}/void`, { reason: 'Never sent' });
    expect(await firstAccountOf(c.id)).toBe(a.id);
    await ok(t, lead, 'POST', `/v1/touchpoints/${fromA.id}/void`, { reason: 'Never sent' });
    expect(await firstAccountOf(c.id)).toBeNull();
  });
});

describe('free-text identifier check (on by default)', () => {
  it('refuses URLs, handles and emails in free text with the field’s pointer, and stores nothing', async () => {
    const { programId, lead, sam, analyst } = await cast(t, { lead: 'lead', sam: 'intervener', analyst: 'analyst' });
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(120) });
    const refused = async (res: Awaited<ReturnType<typeof call>>, path: string) => {
      const body = expectProblem(res, 422, 'text.contains_identifier');
      expect(body['errors']).toEqual([expect.objectContaining({ path })]);
      expect(JSON.stringify(body)).not.toMatch(/someone|example\.org/);
    };
    await refused(await outbound(sam, c.id, { summary: 'Sent them https://example.org/help' }), 'body.summary');
    await refused(await outbound(sam, c.id, { summary: 'Their friend @someone replied' }), 'body.summary');
    await refused(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/notes`, { kind: 'general', body: 'Mailed someone@example.org', visibility: 'case' }),
      'body.body',
    );
    await refused(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'high', concern: 'Fine', actionTaken: 'Told @someone' }),
      'body.actionTaken',
    );
    await refused(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, {
        dueAt: new Date(Date.now() + 86_400_000).toISOString(),
        kind: 'follow_up',
        note: 'check www.example.org',
      }),
      'body.note',
    );
    await refused(
      await call(
        t,
        analyst,
        'POST',
        '/v1/cases',
        flagBody(programId, {
          indicators: [
            { kind: 'a', note: 'fine' },
            { kind: 'b', note: 'see example.org/x' },
          ],
        }),
      ),
      'body.indicators.1.note',
    );
    await refused(
      await call(t, lead, 'PATCH', `/v1/cases/${c.id}`, { indicators: [{ kind: 'a', note: 'follows @someone' }] }, { 'if-match': '*' }),
      'body.indicators.0.note',
    );
    await refused(await call(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'other', note: 'moved to t.me/someone' }), 'body.note');
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(programId));
    await refused(
      await call(t, lead, 'POST', `/v1/cases/${flagged.id}/triage`, { decision: 'accept', reason: 'same as @someone' }),
      'body.reason',
    );
    await refused(await call(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'Request from someone@example.org' }), 'body.reason');
    const { rows } = await t.db.pool.query(
      `select (select count(*)::int from touchpoints where case_id = $1) as t, (select count(*)::int from case_notes where case_id = $1) as n,
              (select count(*)::int from safeguarding_concerns where case_id = $1) as s, (select status::text from cases where id = $1) as status`,
      [c.id],
    );
    expect(rows[0]).toEqual({ t: 0, n: 0, s: 0, status: 'active' });
    // Ordinary text passes.
    expect((await outbound(sam, c.id, { summary: 'Asked how they were; will check back at 5pm' })).statusCode).toBe(201);
  });

  it('a program may turn it off', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { freeTextIdentifierCheck: false });
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(120) });
    const res = await outbound(sam, c.id, { summary: 'Sent them https://example.org/help and @someone' });
    expect(res.statusCode).toBe(201);
  });
});

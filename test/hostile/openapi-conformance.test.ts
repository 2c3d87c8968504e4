import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import type { Who } from '../helpers/cast.js';

/**
 * The served document is the contract clients are generated from: it must lint clean, and every
 * response of a realistic run (successes and the errors a client can cause) must have a status
 * the document declares for its path and method, a declared content type, and a body that
 * validates against the declared schema.
 */

interface MediaType {
  schema?: object;
}
interface Operation {
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}
interface Exchange {
  method: string;
  url: string;
  status: number;
  contentType: string;
  body: string;
}

let t: TestApp;
let doc: Doc;
let docText: string;
const exchanges: Exchange[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  docText = res.body;
  doc = res.json();
});
afterAll(() => t.close());

describe('GET /openapi.json lints clean with @redocly/cli', () => {
  it('has no problems under the recommended ruleset', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'overture-lint-'));
    try {
      writeFileSync(path.join(dir, 'openapi.json'), docText);
      // Relaxed, and why:
      // - no-unused-components: fastify-type-provider-zod registers an input and an output twin of
      //   every schema with an id (`CaseInput`, `Case`); responses use the output ones, so the input
      //   twins go unused by construction and removing them is not ours to do.
      // Everything else stays on, warnings included: operationId names the methods of generated
      // clients, summary is what /docs shows, and a 4XX response tells clients what can go wrong.
      writeFileSync(
        path.join(dir, 'redocly.yaml'),
        ['extends:', '  - recommended', 'rules:', '  no-unused-components: off', ''].join('\n'),
      );
      const run = spawnSync(
        path.resolve('node_modules/.bin/redocly'),
        ['lint', path.join(dir, 'openapi.json'), '--config', path.join(dir, 'redocly.yaml'), '--format=json'],
        {
          encoding: 'utf8',
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
          timeout: 120_000,
        },
      );
      const report = JSON.parse(run.stdout) as {
        problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
      };
      const byRule = new Map<string, string[]>();
      for (const p of report.problems)
        byRule.set(`${p.ruleId} (${p.severity}): ${p.message}`, [
          ...(byRule.get(`${p.ruleId} (${p.severity}): ${p.message}`) ?? []),
          p.location[0]?.pointer ?? '',
        ]);
      expect([...byRule].map(([rule, where]) => `${rule} ×${where.length}, e.g. ${where.slice(0, 3).join(' ')}`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

const none: Pick<Who, 'auth'> = { auth: { authorization: '' } };

/** Sends a request and records what came back. */
async function send(
  who: Pick<Who, 'auth'>,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const all: Record<string, string> = { ...headers };
  if (who.auth.authorization) all['authorization'] = who.auth.authorization;
  const res = await t.app.inject({ method, url, headers: all, ...(payload !== undefined ? { payload: payload as string } : {}) });
  exchanges.push({ method, url, status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.body });
  return res;
}

/** The same, insisting on a status (the story cannot go on otherwise). */
async function expectStatus<T = Record<string, unknown>>(
  status: number,
  who: Pick<Who, 'auth'>,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await send(who, method, url, payload, headers);
  if (res.statusCode !== status) throw new Error(`${method} ${url}: want ${status}, got ${res.statusCode} ${res.body.slice(0, 300)}`);
  return (/json/.test(String(res.headers['content-type'])) ? res.json() : null) as T;
}

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
const DAY = 86_400_000;
const day = (days: number) => iso(days * DAY).slice(0, 10);

describe('every response of a full story conforms to the document', () => {
  it('runs the story: flag → triage → approve → assign → touchpoints → follow-ups → safeguarding → notifications → reports → audit', async () => {
    const admin = await t.staff('admin', null);
    await expectStatus(200, none, 'GET', '/healthz');
    await expectStatus(200, none, 'GET', '/readyz');
    await expectStatus(200, admin, 'GET', '/v1/me');

    // Programs and people, through the API.
    const program = await expectStatus<{ id: string }>(201, admin, 'POST', '/v1/programs', {
      name: 'Conformance',
      settings: { minCellSize: 1, followUpAfter: 'P2D' },
    });
    await expectStatus(200, admin, 'GET', '/v1/programs');
    await expectStatus(200, admin, 'GET', `/v1/programs/${program.id}`);
    await expectStatus(200, admin, 'GET', `/v1/programs/${program.id}/settings-history`);
    const person = async (role: string, extra: Record<string, unknown> = {}) => {
      const s = await expectStatus<{ id: string }>(201, admin, 'POST', '/v1/staff', {
        programId: program.id,
        name: `${role} one`,
        role,
        ...extra,
      });
      const tok = await expectStatus<{ id: string; token: string }>(201, admin, 'POST', `/v1/staff/${s.id}/tokens`, { label: 'laptop' });
      return { id: s.id, tokenId: tok.id, auth: { authorization: `Bearer ${tok.token}` } };
    };
    const lead = await person('lead');
    const analyst = await person('analyst');
    const sam = await person('intervener', { specialisms: ['far_right'], languages: ['en'], maxCaseload: 5 });
    const kim = await person('intervener', { languages: ['de'] });
    await expectStatus(200, admin, 'GET', `/v1/staff?programId=${program.id}&role=intervener&active=true`);
    await expectStatus(200, lead, 'GET', '/v1/staff');
    await expectStatus(200, admin, 'GET', `/v1/staff/${kim.id}`);
    await expectStatus(200, admin, 'PATCH', `/v1/staff/${kim.id}`, { maxCaseload: 8 });

    // The lead tunes the program (If-Match), with the errors a careless client meets.
    const current = await send(lead, 'GET', `/v1/programs/${program.id}`);
    const etag = String(current.headers.etag);
    await expectStatus(428, lead, 'PATCH', `/v1/programs/${program.id}`, { name: 'x' });
    await expectStatus(412, lead, 'PATCH', `/v1/programs/${program.id}`, { name: 'x' }, { 'if-match': '"v999"' });
    await expectStatus(
      200,
      lead,
      'PATCH',
      `/v1/programs/${program.id}`,
      { settings: { staffWebhookUrl: 'https://hooks.example.org/overture' } },
      { 'if-match': etag },
    );

    // Flag (idempotently), triage, approve, assign.
    const body = {
      programId: program.id,
      profile: {
        platform: 'telegram',
        handle: '@Conformance_Profile',
        url: 'https://t.me/conformance_profile',
        displayName: 'C',
        language: 'en',
      },
      ideology: 'far_right',
      riskLevel: 'medium',
      indicators: [{ kind: 'shares_propaganda', evidenceUrl: 'https://example.org/1', note: 'reposts' }],
      flaggedAt: iso(-3 * DAY),
    };
    const c = await expectStatus<{ id: string }>(201, analyst, 'POST', '/v1/cases', body, { 'idempotency-key': 'flag-1' });
    await expectStatus(201, analyst, 'POST', '/v1/cases', body, { 'idempotency-key': 'flag-1' });
    await expectStatus(422, analyst, 'POST', '/v1/cases', { ...body, riskLevel: 'high' }, { 'idempotency-key': 'flag-1' });
    await expectStatus(409, analyst, 'POST', '/v1/cases', body);
    await expectStatus(400, analyst, 'POST', '/v1/cases', { ...body, profile: { ...body.profile, platform: 'myspace' } });
    await expectStatus(200, analyst, 'GET', '/v1/cases?status=flagged&limit=10');
    await expectStatus(200, analyst, 'GET', `/v1/cases/${c.id}`);
    await expectStatus(200, analyst, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    await expectStatus(409, analyst, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'again' });
    await expectStatus(403, analyst, 'POST', `/v1/cases/${c.id}/approve`, {});
    await expectStatus(200, lead, 'POST', `/v1/cases/${c.id}/approve`, { note: 'go ahead' });
    await expectStatus(200, lead, 'GET', `/v1/cases/${c.id}/candidates`);
    await expectStatus(200, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id });
    await expectStatus(200, lead, 'GET', `/v1/cases/${c.id}/events?limit=50`);

    // The intervener works the case.
    await expectStatus(200, sam, 'GET', '/v1/me/caseload');
    await expectStatus(
      201,
      sam,
      'POST',
      `/v1/cases/${c.id}/touchpoints`,
      {
        direction: 'outbound',
        channel: 'direct_message',
        occurredAt: iso(-2 * DAY),
        approaches: ['empathetic', 'questioning'],
        sentiment: 'neutral',
        costCents: 0,
        summary: 'opened',
      },
      { 'idempotency-key': 'tp-1' },
    );
    await expectStatus(201, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: iso(-DAY),
      sentiment: 'negative',
    });
    await expectStatus(400, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: iso(2 * DAY),
    });
    await expectStatus(200, sam, 'GET', `/v1/cases/${c.id}/touchpoints?limit=1`);
    // Case notes: the holder's, a lead's for leads only, a refused `leads` note from the holder, a page of the list.
    await expectStatus(201, sam, 'POST', `/v1/cases/${c.id}/notes`, {
      kind: 'general',
      body: 'Asked for time to think',
      visibility: 'case',
    });
    await expectStatus(201, lead, 'POST', `/v1/cases/${c.id}/notes`, {
      kind: 'supervision',
      body: 'Check in with Sam',
      visibility: 'leads',
    });
    await expectStatus(403, sam, 'POST', `/v1/cases/${c.id}/notes`, { kind: 'general', body: 'for leads', visibility: 'leads' });
    await expectStatus(400, sam, 'POST', `/v1/cases/${c.id}/notes`, { kind: 'diary', body: 'x', visibility: 'case' });
    await expectStatus(200, sam, 'GET', `/v1/cases/${c.id}/notes?limit=1`);
    await expectStatus(200, lead, 'GET', `/v1/cases/${c.id}/notes`);
    // Assessments: the lead's template, the holder's baseline (a factor skipped) and review, the refusals, the list, the report.
    const tpl = await expectStatus<{ id: string }>(
      201,
      lead,
      'POST',
      `/v1/programs/${program.id}/assessment-templates`,
      {
        name: 'Vulnerability review',
        factors: [
          { key: 'isolation', label: 'Isolation' },
          { key: 'grievance', label: 'Grievance' },
        ],
      },
      { 'idempotency-key': 'tpl-1' },
    );
    await expectStatus(400, lead, 'POST', `/v1/programs/${program.id}/assessment-templates`, { name: 'x', factors: [] });
    await expectStatus(200, sam, 'GET', `/v1/programs/${program.id}/assessment-templates`);
    await expectStatus(
      201,
      sam,
      'POST',
      `/v1/cases/${c.id}/assessments`,
      { templateId: tpl.id, phase: 'baseline', scores: { isolation: 2 }, note: 'Quiet online' },
      { 'idempotency-key': 'asmt-1' },
    );
    await expectStatus(201, sam, 'POST', `/v1/cases/${c.id}/assessments`, {
      templateId: tpl.id,
      phase: 'review',
      scores: { isolation: 1, grievance: 3 },
    });
    await expectStatus(400, sam, 'POST', `/v1/cases/${c.id}/assessments`, { templateId: tpl.id, phase: 'review', scores: { hope: 1 } });
    await expectStatus(403, analyst, 'POST', `/v1/cases/${c.id}/assessments`, { templateId: tpl.id, phase: 'closure', scores: {} });
    await expectStatus(404, kim, 'POST', `/v1/cases/${c.id}/assessments`, { templateId: tpl.id, phase: 'review', scores: {} });
    await expectStatus(200, sam, 'GET', `/v1/cases/${c.id}/assessments?limit=1`);
    await expectStatus(
      200,
      lead,
      'GET',
      `/v1/reports/assessments?programId=${program.id}&templateId=${tpl.id}&from=${day(-30)}&to=${day(1)}`,
    );
    await expectStatus(
      400,
      lead,
      'GET',
      `/v1/reports/assessments?programId=${program.id}&templateId=${crypto.randomUUID()}&from=${day(-30)}&to=${day(1)}`,
    );
    // A trial: started (replayable), a second refused, read, reported, stopped once.
    const trial = await expectStatus<{ id: string }>(
      201,
      lead,
      'POST',
      `/v1/programs/${program.id}/trials`,
      { name: 'Opening approach', arms: ['empathetic', 'questioning'], stratifyBy: ['riskLevel'] },
      { 'idempotency-key': 'trial-1' },
    );
    await expectStatus(409, lead, 'POST', `/v1/programs/${program.id}/trials`, { name: 'Second', arms: ['humour', 'informational'] });
    await expectStatus(400, lead, 'POST', `/v1/programs/${program.id}/trials`, { name: 'One arm', arms: ['humour'] });
    await expectStatus(200, lead, 'GET', `/v1/programs/${program.id}/trials`);
    await expectStatus(200, lead, 'GET', `/v1/trials/${trial.id}`);
    await expectStatus(200, lead, 'GET', `/v1/reports/trials/${trial.id}`);
    await expectStatus(403, sam, 'GET', `/v1/reports/trials/${trial.id}`);
    await expectStatus(404, lead, 'GET', `/v1/trials/${crypto.randomUUID()}`);
    await expectStatus(200, lead, 'POST', `/v1/trials/${trial.id}/stop`);
    await expectStatus(409, lead, 'POST', `/v1/trials/${trial.id}/stop`);
    // Welfare: Sam's time, a hostile message that owes a debrief, the week, an opt-out; the lead's debrief queue and supervision.
    await expectStatus(
      201,
      sam,
      'POST',
      '/v1/me/time',
      { at: new Date().toISOString(), minutes: 30, activity: 'research' },
      { 'idempotency-key': 'time-1' },
    );
    await expectStatus(400, sam, 'POST', '/v1/me/time', { at: new Date().toISOString(), minutes: 0, activity: 'research' });
    await expectStatus(201, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      sentiment: 'hostile',
      minutesSpent: 10,
      distressing: true,
    });
    await expectStatus(200, sam, 'GET', '/v1/me/welfare');
    await expectStatus(200, sam, 'PUT', '/v1/me/avoid', { avoid: ['islamist'] });
    await expectStatus(400, sam, 'PUT', '/v1/me/avoid', { avoid: ['everything'] });
    const debriefs = await expectStatus<{ items: { id: string }[] }>(200, lead, 'GET', '/v1/debriefs?status=pending');
    await expectStatus(200, sam, 'GET', '/v1/debriefs');
    await expectStatus(404, analyst, 'GET', '/v1/debriefs');
    await expectStatus(200, lead, 'POST', `/v1/debriefs/${debriefs.items[0]!.id}/complete`, { note: 'Talked it through' });
    await expectStatus(409, lead, 'POST', `/v1/debriefs/${debriefs.items[0]!.id}/complete`, {});
    await expectStatus(
      201,
      lead,
      'POST',
      `/v1/staff/${sam.id}/supervision-sessions`,
      { at: new Date(Date.now() - 60_000).toISOString(), minutes: 60, format: 'individual' },
      { 'idempotency-key': 'sup-1' },
    );
    await expectStatus(200, sam, 'GET', `/v1/staff/${sam.id}/supervision-sessions`);
    await expectStatus(404, kim, 'GET', `/v1/staff/${sam.id}/supervision-sessions`);
    await expectStatus(200, lead, 'GET', `/v1/reports/welfare?programId=${program.id}&from=${day(-30)}&to=${day(1)}`);
    // Data protection: a disclosed outreach account, a referral, a hold, the retention preview and record, a subject request.
    const dpo = await person('dpo');
    const { profile } = await expectStatus<{ profile: { platform: string } }>(200, lead, 'GET', `/v1/cases/${c.id}`);
    const account = await expectStatus<{ id: string }>(
      201,
      lead,
      'POST',
      `/v1/programs/${program.id}/outreach-accounts`,
      { platform: profile.platform, label: 'Programme account', disclosure: 'organisation' },
      { 'idempotency-key': 'acct-1' },
    );
    await expectStatus(400, lead, 'POST', `/v1/programs/${program.id}/outreach-accounts`, {
      platform: 'x',
      label: 'Persona',
      disclosure: 'persona',
    });
    await expectStatus(200, sam, 'GET', `/v1/programs/${program.id}/outreach-accounts`);
    await expectStatus(201, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      outreachAccountId: account.id,
    });
    await expectStatus(422, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      summary: 'See https://example.org/x',
    });
    await expectStatus(200, lead, 'POST', `/v1/outreach-accounts/${account.id}/retire`);
    const referral = await expectStatus<{ id: string }>(
      201,
      sam,
      'POST',
      `/v1/cases/${c.id}/referrals`,
      { to: 'helpline', consent: 'given' },
      { 'idempotency-key': 'ref-1' },
    );
    await expectStatus(400, sam, 'POST', `/v1/cases/${c.id}/referrals`, { to: 'helpline', consent: 'declined' });
    await expectStatus(200, sam, 'GET', `/v1/cases/${c.id}/referrals`);
    await expectStatus(200, sam, 'PATCH', `/v1/referrals/${referral.id}`, { status: 'accepted' });
    const hold = await expectStatus<{ id: string }>(
      201,
      dpo,
      'POST',
      `/v1/cases/${c.id}/holds`,
      { reason: 'complaint' },
      { 'idempotency-key': 'hold-1' },
    );
    await expectStatus(200, dpo, 'GET', '/v1/holds');
    await expectStatus(200, dpo, 'DELETE', `/v1/holds/${hold.id}`);
    await expectStatus(200, dpo, 'GET', `/v1/retention/preview?programId=${program.id}&within=P30D`);
    await expectStatus(200, dpo, 'GET', `/v1/programs/${program.id}/record-of-processing`);
    const dsr = await expectStatus<{ id: string }>(
      201,
      dpo,
      'POST',
      '/v1/dsr',
      {
        programId: program.id,
        type: 'access',
        profile: { platform: 'x', handle: 'https://x.com/Drifting_Dan' },
        receivedAt: new Date().toISOString(),
      },
      { 'idempotency-key': 'dsr-1' },
    );
    await expectStatus(200, dpo, 'GET', '/v1/dsr?status=open');
    await expectStatus(200, dpo, 'GET', `/v1/dsr/${dsr.id}`);
    await expectStatus(200, dpo, 'POST', `/v1/dsr/${dsr.id}/extend`, { reason: 'a complex request' });
    await expectStatus(409, dpo, 'POST', `/v1/dsr/${dsr.id}/extend`, { reason: 'again' });
    await expectStatus(200, dpo, 'GET', `/v1/dsr/${dsr.id}/export`);
    const dpoConcern = await expectStatus<{ id: string }>(201, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, {
      severity: 'high',
      concern: 'Mentioned a date',
    });
    await expectStatus(200, dpo, 'POST', `/v1/safeguarding/${dpoConcern.id}/dpo-review`, {});
    await expectStatus(200, dpo, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'fulfilled', note: 'Export sent by post' });
    // One logged in error and voided: it counts nowhere after, so the rest of the story is unchanged.
    const wrongTp = await expectStatus<{ id: string }>(201, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'comment',
      occurredAt: iso(-DAY / 2),
    });
    await expectStatus(400, sam, 'POST', `/v1/touchpoints/${wrongTp.id}/void`, { reason: '' });
    await expectStatus(403, analyst, 'POST', `/v1/touchpoints/${wrongTp.id}/void`, { reason: 'wrong case' });
    await expectStatus(200, sam, 'POST', `/v1/touchpoints/${wrongTp.id}/void`, { reason: 'wrong case' });
    await expectStatus(409, sam, 'POST', `/v1/touchpoints/${wrongTp.id}/void`, { reason: 'wrong case' });
    await expectStatus(404, kim, 'POST', `/v1/touchpoints/${wrongTp.id}/void`, { reason: 'wrong case' });
    await expectStatus(200, sam, 'GET', '/v1/me/caseload');
    const f1 = await expectStatus<{ id: string }>(201, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, {
      dueAt: iso(DAY),
      kind: 'check_in',
      note: 'ask again',
    });
    const f2 = await expectStatus<{ id: string }>(201, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, {
      dueAt: iso(2 * DAY),
      kind: 'review',
    });
    await expectStatus(200, sam, 'GET', '/v1/follow-ups?status=pending');
    await expectStatus(
      200,
      lead,
      'GET',
      `/v1/follow-ups?caseId=${c.id}&dueFrom=${encodeURIComponent(iso(-DAY))}&dueTo=${encodeURIComponent(iso(30 * DAY))}`,
    );
    await expectStatus(200, sam, 'POST', `/v1/follow-ups/${f1.id}/snooze`, { until: iso(3 * DAY) });
    await expectStatus(200, sam, 'POST', `/v1/follow-ups/${f1.id}/complete`);
    await expectStatus(409, sam, 'POST', `/v1/follow-ups/${f1.id}/complete`, {});
    await expectStatus(200, sam, 'POST', `/v1/follow-ups/${f2.id}/cancel`, {});
    await expectStatus(404, kim, 'POST', `/v1/follow-ups/${f2.id}/cancel`, {});

    // Safeguarding and the inbox.
    const concern = await expectStatus<{ id: string }>(201, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, {
      severity: 'urgent',
      concern: 'mentions a date and a place',
      actionTaken: 'told my lead',
    });
    await expectStatus(200, sam, 'GET', '/v1/safeguarding?status=open');
    await expectStatus(200, lead, 'GET', '/v1/safeguarding');
    await expectStatus(200, analyst, 'GET', '/v1/safeguarding');
    await expectStatus(200, lead, 'POST', `/v1/safeguarding/${concern.id}/acknowledge`, { note: 'on it' });
    await expectStatus(409, lead, 'POST', `/v1/safeguarding/${concern.id}/acknowledge`);
    const inbox = await expectStatus<{ items: { id: string }[] }>(200, lead, 'GET', '/v1/me/notifications?unread=true');
    expect(inbox.items.length).toBeGreaterThan(0);
    await expectStatus(200, lead, 'POST', `/v1/me/notifications/${inbox.items[0]!.id}/read`);
    await expectStatus(404, sam, 'POST', `/v1/me/notifications/${inbox.items[0]!.id}/read`, {});
    await expectStatus(200, sam, 'GET', '/v1/me/notifications');

    // Edits, closing and reopening.
    const read = await send(lead, 'GET', `/v1/cases/${c.id}`);
    await expectStatus(428, lead, 'PATCH', `/v1/cases/${c.id}`, { riskLevel: 'high' });
    await expectStatus(
      200,
      lead,
      'PATCH',
      `/v1/cases/${c.id}`,
      { riskLevel: 'high', profile: { language: 'en-GB' } },
      { 'if-match': String(read.headers.etag) },
    );
    await expectStatus(412, lead, 'PATCH', `/v1/cases/${c.id}`, { riskLevel: 'low' }, { 'if-match': String(read.headers.etag) });
    await expectStatus(200, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'positive_change', note: 'left the group' });
    await expectStatus(409, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'other' });
    await expectStatus(200, lead, 'POST', `/v1/cases/${c.id}/reopen`, { reason: 'contact again' });
    await expectStatus(200, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id, override: true, reason: 'language' });
    // Continuity of care: an absence recorded, listed, refused when it overlaps, ended; a handover; orphaned cases.
    const soonMs = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const away = await expectStatus<{ id: string }>(201, lead, 'POST', `/v1/staff/${kim.id}/absences`, {
      from: soonMs(24),
      to: soonMs(48),
      coverId: sam.id,
      reason: 'leave',
    });
    await expectStatus(409, lead, 'POST', `/v1/staff/${kim.id}/absences`, { from: soonMs(30), to: soonMs(50) });
    await expectStatus(400, lead, 'POST', `/v1/staff/${kim.id}/absences`, { from: soonMs(50), to: soonMs(30) });
    await expectStatus(200, lead, 'GET', `/v1/staff/${kim.id}/absences`);
    await expectStatus(204, lead, 'DELETE', `/v1/absences/${away.id}`);
    await expectStatus(404, lead, 'DELETE', `/v1/absences/${away.id}`);
    await expectStatus(200, lead, 'POST', `/v1/staff/${kim.id}/handover`, {
      toIntervenerId: sam.id,
      reason: 'rota change',
      note: 'Prefers mornings',
    });
    await expectStatus(400, lead, 'POST', `/v1/staff/${kim.id}/handover`, { reason: 'no target' });
    await expectStatus(200, lead, 'POST', `/v1/cases/${c.id}/assignment`, {
      intervenerId: kim.id,
      override: true,
      reason: 'back',
      handoverNote: 'Over to you',
    });
    await expectStatus(200, lead, 'GET', '/v1/cases?orphaned=true');

    // Erasure on request, and the suppression it leaves.
    const gone = await expectStatus<{ id: string }>(201, lead, 'POST', '/v1/cases', {
      ...body,
      profile: { platform: 'x', handle: 'erase_me' },
    });
    await expectStatus(200, lead, 'POST', `/v1/cases/${gone.id}/erase`, { reason: 'request received' });
    await expectStatus(409, lead, 'POST', `/v1/cases/${gone.id}/erase`, { reason: 'again' });
    await expectStatus(422, lead, 'POST', '/v1/cases', { ...body, profile: { platform: 'x', handle: '@Erase_Me' } });

    // Reports.
    for (const groupBy of ['intervener', 'ideology', 'platform', 'riskLevel', 'approach', 'cohort']) {
      await expectStatus(
        200,
        lead,
        'GET',
        `/v1/reports/engagement?programId=${program.id}&from=${day(-30)}&to=${day(1)}&groupBy=${groupBy}`,
      );
    }
    await expectStatus(200, lead, 'GET', `/v1/reports/engagement?programId=${program.id}&from=${day(-30)}&to=${day(1)}&format=csv`);
    // Honest evaluation, in a program that reviews outcomes (two reviewers per case): review, dispute,
    // adjudicate; then an evaluator's agreement report, snapshot (and its verification) and export.
    const reviewed = await expectStatus<{ id: string }>(201, admin, 'POST', '/v1/programs', {
      name: 'Conformance, reviewed',
      settings: { minCellSize: 1, outcomeReview: 'required', secondCoderRate: 1 },
    });
    const member = async (role: string) => {
      const s = await expectStatus<{ id: string }>(201, admin, 'POST', '/v1/staff', { programId: reviewed.id, name: `${role} two`, role });
      const tok = await expectStatus<{ token: string }>(201, admin, 'POST', `/v1/staff/${s.id}/tokens`, { label: 'laptop' });
      return { id: s.id, auth: { authorization: `Bearer ${tok.token}` } };
    };
    const [rLead, rAnalyst, rHolder, rPeer, rEvaluator] = [
      await member('lead'),
      await member('analyst'),
      await member('intervener'),
      await member('intervener'),
      await member('evaluator'),
    ];
    const rc = await expectStatus<{ id: string }>(201, rLead, 'POST', '/v1/cases', {
      ...body,
      programId: reviewed.id,
      profile: { platform: 'x', handle: '@Reviewed_One' },
    });
    await expectStatus(200, rLead, 'POST', `/v1/cases/${rc.id}/triage`, { decision: 'accept', reason: 'criteria' });
    await expectStatus(200, rLead, 'POST', `/v1/cases/${rc.id}/approve`, {});
    await expectStatus(200, rLead, 'POST', `/v1/cases/${rc.id}/assignment`, { intervenerId: rHolder.id });
    await expectStatus(200, rLead, 'POST', `/v1/cases/${rc.id}/close`, { outcome: 'other' });
    await expectStatus(200, rPeer, 'GET', '/v1/reviews/pending');
    await expectStatus(201, rPeer, 'POST', `/v1/cases/${rc.id}/outcome-reviews`, {
      outcome: 'other',
      signals: ['none'],
      confidence: 'low',
    });
    await expectStatus(409, rHolder, 'POST', `/v1/cases/${rc.id}/outcome-reviews`, {
      outcome: 'other',
      signals: ['none'],
      confidence: 'low',
    });
    await expectStatus(400, rAnalyst, 'POST', `/v1/cases/${rc.id}/outcome-reviews`, {
      outcome: 'other',
      signals: ['nope'],
      confidence: 'low',
    });
    await expectStatus(201, rAnalyst, 'POST', `/v1/cases/${rc.id}/outcome-reviews`, {
      outcome: 'referred',
      signals: ['none'],
      confidence: 'high',
    });
    await expectStatus(200, rLead, 'GET', `/v1/cases/${rc.id}/outcome-reviews`);
    await expectStatus(201, rLead, 'POST', `/v1/cases/${rc.id}/outcome-adjudication`, {
      outcome: 'referred',
      signals: ['none'],
      note: 'agreed',
    });
    await expectStatus(409, rLead, 'POST', `/v1/cases/${rc.id}/outcome-adjudication`, {
      outcome: 'other',
      signals: ['none'],
      note: 'again',
    });
    await expectStatus(404, rEvaluator, 'GET', `/v1/cases/${rc.id}`);
    await expectStatus(200, rEvaluator, 'GET', `/v1/reports/agreement?programId=${reviewed.id}&from=${day(-30)}&to=${day(1)}`);
    const snap = await expectStatus<{ id: string }>(201, rEvaluator, 'POST', '/v1/reports/snapshots', {
      report: 'engagement',
      params: { programId: reviewed.id, from: day(-30), to: day(1) },
    });
    await expectStatus(400, rEvaluator, 'POST', '/v1/reports/snapshots', { report: 'trial', params: { programId: reviewed.id } });
    await expectStatus(200, rEvaluator, 'GET', `/v1/reports/snapshots?programId=${reviewed.id}`);
    await expectStatus(200, rEvaluator, 'GET', `/v1/reports/snapshots/${snap.id}`);
    await expectStatus(200, rEvaluator, 'GET', `/v1/reports/snapshots/${snap.id}/verify`);
    await expectStatus(200, rEvaluator, 'GET', `/v1/exports/cases?programId=${reviewed.id}&from=${day(-30)}&to=${day(1)}`);
    await expectStatus(200, rEvaluator, 'GET', `/v1/exports/cases?programId=${reviewed.id}&from=${day(-30)}&to=${day(1)}&format=csv`);
    await expectStatus(
      200,
      lead,
      'GET',
      `/v1/reports/engagement/trend?programId=${program.id}&from=${day(-30)}&to=${day(1)}&interval=week`,
    );
    await expectStatus(400, lead, 'GET', `/v1/reports/engagement?programId=${program.id}&from=${day(1)}&to=${day(-30)}`);
    await expectStatus(404, lead, 'GET', `/v1/reports/engagement?programId=${crypto.randomUUID()}&from=${day(-30)}&to=${day(1)}`);

    // Audit, jobs and tokens (admin).
    await expectStatus(200, admin, 'GET', `/v1/audit?caseId=${c.id}&limit=5`);
    await expectStatus(200, admin, 'GET', `/v1/audit?actorId=${sam.id}`);
    await expectStatus(400, admin, 'GET', '/v1/audit?cursor=not-ours');
    await expectStatus(200, admin, 'GET', '/v1/audit/verify');
    await expectStatus(202, admin, 'POST', '/v1/admin/jobs/reconcile/run?wait=false');
    await expectStatus(404, admin, 'POST', '/v1/admin/jobs/nope/run');
    await expectStatus(204, admin, 'DELETE', `/v1/tokens/${kim.tokenId}`);
    await expectStatus(401, kim, 'GET', '/v1/me');
    await expectStatus(404, admin, 'DELETE', `/v1/tokens/${crypto.randomUUID()}`);

    // The errors any client can cause.
    await expectStatus(401, none, 'GET', '/v1/cases');
    await expectStatus(403, sam, 'GET', '/v1/audit');
    await expectStatus(403, admin, 'GET', `/v1/cases/${c.id}`);
    await expectStatus(404, lead, 'GET', `/v1/cases/${crypto.randomUUID()}`);
    await expectStatus(400, lead, 'GET', '/v1/cases/not-a-uuid');
    await expectStatus(400, lead, 'GET', '/v1/cases?limit=500');
    await expectStatus(400, lead, 'POST', `/v1/cases/${c.id}/close`, '{"outcome":', { 'content-type': 'application/json' });
    await expectStatus(
      413,
      lead,
      'POST',
      '/v1/cases',
      JSON.stringify({ ...body, indicators: [{ kind: 'x', note: 'x'.repeat(300 * 1024) }] }),
      { 'content-type': 'application/json' },
    );
    await expectStatus(415, lead, 'POST', '/v1/cases', 'programId=x', { 'content-type': 'application/x-www-form-urlencoded' });
  });

  it('every status is one the document declares for that path and method', () => {
    const wrong = exchanges.flatMap((x) => {
      const op = operationOf(x);
      if (!op) return [];
      return op.responses[String(x.status)] || op.responses[`${String(x.status)[0]}XX`] || op.responses['default']
        ? []
        : [`${x.method} ${x.url} → ${x.status}`];
    });
    expect(wrong).toEqual([]);
  });

  it('every body validates against the schema declared for its status', () => {
    const validate = validatorFor(doc);
    // The validator itself bites: a case without its fields is not a Case.
    const caseSchema = doc.paths['/v1/cases/{id}']!['get']!.responses['200']!.content!['application/json']!.schema!;
    expect(validate(caseSchema)({ id: 'x' })).toBe(false);
    let validated = 0;
    const wrong = exchanges.flatMap((x) => {
      const op = operationOf(x);
      const declared = op?.responses[String(x.status)];
      if (!declared) return [];
      const content = declared.content ?? {};
      if (Object.keys(content).length === 0)
        return x.body === '' ? [] : [`${x.method} ${x.url} → ${x.status}: a body where none is declared`];
      if (!/json/.test(x.contentType)) return [];
      const schema = (content[mediaType(x.contentType)] ?? content['application/json'])?.schema;
      if (!schema) return [];
      const check = validate(schema);
      validated++;
      return check(JSON.parse(x.body)) ? [] : [`${x.method} ${x.url} → ${x.status}: ${JSON.stringify(check.errors?.slice(0, 3))}`];
    });
    expect(wrong).toEqual([]);
    expect(validated).toBeGreaterThan(80);
  });

  it('every content type is one the document declares for that response', () => {
    const wrong = new Map<string, string>();
    for (const x of exchanges) {
      const declared = operationOf(x)?.responses[String(x.status)];
      if (!declared || x.status === 204) continue;
      const types = Object.keys(declared.content ?? {});
      if (!types.includes(mediaType(x.contentType)))
        wrong.set(`${x.status} ${mediaType(x.contentType)} (declared: ${types.join(', ')})`, `${x.method} ${x.url}`);
    }
    expect([...wrong].map(([k, v]) => `${k}, e.g. ${v}`)).toEqual([]);
  });

  it('the story covered every documented operation', () => {
    const covered = new Set(exchanges.flatMap((x) => (operationOf(x) ? [`${x.method} ${templateOf(x)!}`] : [])));
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.filter((o) => !covered.has(o))).toEqual([]);
  });
});

const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

function templateOf(x: Exchange): string | undefined {
  const pathOnly = x.url.split('?')[0]!;
  const candidates = Object.keys(doc.paths).filter((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathOnly));
  // A literal segment beats a parameter: fewer parameters first.
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

function operationOf(x: Exchange): Operation | undefined {
  const template = templateOf(x);
  return template ? doc.paths[template]?.[x.method.toLowerCase()] : undefined;
}

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const COMPONENTS_ID = 'urn:overture:openapi';

/** A validator for any schema of the document, `$ref`s resolved against components.schemas. */
function validatorFor(d: Doc): (schema: object) => ValidateFunction {
  const rewrite = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(rewrite);
    if (!s || typeof s !== 'object') return s;
    return Object.fromEntries(
      Object.entries(s).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`) : rewrite(v),
      ]),
    );
  };
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  // OpenAPI 3.1 annotations that are not JSON Schema vocabulary.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewrite(d.components.schemas) as object });
  const cache = new Map<string, ValidateFunction>();
  return (schema) => {
    const key = JSON.stringify(schema);
    let fn = cache.get(key);
    if (!fn) {
      fn = ajv.compile(rewrite(schema) as object);
      cache.set(key, fn);
    }
    return fn;
  };
}

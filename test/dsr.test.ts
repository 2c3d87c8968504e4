import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, dsrRequests, staff } from '../src/db/schema/index.js';
import { suppressionHash } from '../src/domain/cases/profile.js';
import { addCalendarMonths, dueAtOf, extendedUntilOf } from '../src/domain/dsr/rules.js';
import { reconcile } from '../src/domain/reminders/scan.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';
import { backends, inbox, workersFor } from './helpers/workers.js';

// API.md, "Data protection operations" → "Data-subject requests" and "Audit for dpos".

const DAY = 86_400_000;
const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
/** A fresh x handle (≤ 15 characters of [a-z0-9_]). */
const newHandle = () => `dd_${randomBytes(5).toString('hex')}`;

interface Dsr {
  id: string;
  type: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  extendedUntil: string | null;
  overdue: boolean;
  matches: { caseId: string; status: string }[];
  suppressed: boolean;
  resolution: string | null;
}

describe('DSR deadlines in calendar months (UTC)', () => {
  it('adds a month and clamps to the end of a shorter month', () => {
    expect(dueAtOf(new Date('2026-01-31T10:15:00Z'))).toEqual(new Date('2026-02-28T10:15:00Z'));
    // 2028 is a leap year.
    expect(dueAtOf(new Date('2028-01-31T00:00:00Z'))).toEqual(new Date('2028-02-29T00:00:00Z'));
    expect(dueAtOf(new Date('2026-11-30T09:00:00Z'))).toEqual(new Date('2026-12-30T09:00:00Z'));
    expect(dueAtOf(new Date('2026-03-31T23:59:59.500Z'))).toEqual(new Date('2026-04-30T23:59:59.500Z'));
    expect(dueAtOf(new Date('2026-12-31T12:00:00Z'))).toEqual(new Date('2027-01-31T12:00:00Z'));
    expect(dueAtOf(new Date('2026-02-14T08:00:00Z'))).toEqual(new Date('2026-03-14T08:00:00Z'));
  });

  it('extends by two calendar months from dueAt', () => {
    expect(extendedUntilOf(new Date('2026-02-28T10:15:00Z'))).toEqual(new Date('2026-04-28T10:15:00Z'));
    expect(extendedUntilOf(new Date('2026-12-31T00:00:00Z'))).toEqual(new Date('2027-02-28T00:00:00Z'));
    expect(addCalendarMonths(new Date('2027-12-31T00:00:00Z'), 2)).toEqual(new Date('2028-02-29T00:00:00Z'));
  });
});

describe('data-subject requests', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let dpo: Who;
  let sam: Who;
  let analyst: Who;
  let evaluator: Who;
  let other: { programId: string; dpo: Who; lead: Who };
  let admin: Who;

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, dpo, sam, analyst, evaluator } = await cast(
      t,
      { lead: 'lead', dpo: 'dpo', sam: 'intervener', analyst: 'analyst', evaluator: 'evaluator' },
      { dataProtection: { controller: 'Example Exit Trust', legalBasis: 'public task' }, retentionClosed: 'P200D' },
    ));
    other = await cast(t, { dpo: 'dpo', lead: 'lead' });
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  const request = (who: Who, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    call(t, who, 'POST', '/v1/dsr', body, headers);
  const dsrBody = (handle: string, type = 'access', extra: Record<string, unknown> = {}) => ({
    programId,
    type,
    profile: { platform: 'x', handle },
    receivedAt: iso(-2 * DAY),
    ...extra,
  });
  const profile = (handle: string) => ({ platform: 'x', handle: `@${handle}`, language: 'en', displayName: 'Dan Drift' });
  /** A case of `handle` rejected at triage (closed for good, so the profile may be flagged again). */
  async function rejectedCase(handle: string) {
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId, { profile: profile(handle) }));
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'reject', reason: 'not in scope after all' });
    return c.id;
  }

  it('an access request, from a URL form of the handle to a minimal, complete export', async () => {
    const handle = newHandle();
    // An older case of the profile, rejected and then erased on request: only a keyed hash is left of it.
    const erased = await rejectedCase(handle);
    const live = await activeCase(t, lead, programId, sam.id, { profile: profile(handle) });
    await ok(t, lead, 'POST', `/v1/cases/${erased}/erase`, { reason: 'Erasure request by email' });
    const tp = { direction: 'outbound', channel: 'paid_message', occurredAt: iso(0), summary: 'Opened with a question about music' };
    await ok(t, sam, 'POST', `/v1/cases/${live.id}/touchpoints`, tp);
    await ok(t, sam, 'POST', `/v1/cases/${live.id}/notes`, { kind: 'general', body: 'Agreed to talk again next week', visibility: 'case' });
    await ok(t, lead, 'POST', `/v1/cases/${live.id}/notes`, { kind: 'general', body: 'Leads only: staffing worry', visibility: 'leads' });
    await ok(t, sam, 'POST', `/v1/cases/${live.id}/follow-ups`, { dueAt: iso(3 * DAY), kind: 'check_in', note: 'ask about the gig' });
    const concern = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${live.id}/safeguarding`, {
      severity: 'high',
      concern: 'Mentioned feeling hopeless',
      actionTaken: 'Gave the helpline number',
    });

    const body = dsrBody(`https://x.com/${handle.toUpperCase()}`, 'access', { note: 'Letter received' });
    const res = await request(dpo, body, { 'idempotency-key': `dsr-${handle}` });
    expect(res.statusCode, res.body).toBe(201);
    const dsr = res.json() as Dsr;
    expect(dsr).toMatchObject({ type: 'access', status: 'open', extendedUntil: null, suppressed: true, overdue: false });
    expect(dsr.matches).toEqual([{ caseId: live.id, status: 'active' }]);
    expect(dsr.dueAt).toBe(dueAtOf(new Date(body.receivedAt)).toISOString());
    // Idempotent: the same key answers the first response.
    const again = await request(dpo, body, { 'idempotency-key': `dsr-${handle}` });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((again.json() as Dsr).id).toBe(dsr.id);
    expect(await t.db.db.select().from(dsrRequests).where(eq(dsrRequests.programId, programId))).toHaveLength(1);
    // Only the keyed hash is stored, never the handle.
    const [row] = await t.db.db.select().from(dsrRequests).where(eq(dsrRequests.id, dsr.id));
    expect(row!.subjectHash).toBe(suppressionHash(TEST_SECRET, 'x', handle));
    expect(JSON.stringify(row).toLowerCase()).not.toContain(handle);
    // Read back by a lead of the program.
    expect(await ok<Dsr>(t, lead, 'GET', `/v1/dsr/${dsr.id}`)).toMatchObject({ id: dsr.id, matches: dsr.matches });

    const exported = await call(t, dpo, 'GET', `/v1/dsr/${dsr.id}/export`);
    expect(exported.statusCode, exported.body).toBe(200);
    const x = exported.json();
    expect(x).toMatchObject({
      dsrId: dsr.id,
      platform: 'x',
      caseCount: 1,
      suppressed: true,
      staffShownAs: 'role',
      dataProtection: { controller: 'Example Exit Trust', legalBasis: 'public task' },
      retention: { neverContacted: 'P90D', closed: 'P200D' },
      concernsPendingReview: [concern.id],
    });
    expect(x.keyedHashOnly).toMatch(/keyed hash/);
    const [c] = x.cases;
    expect(c).toMatchObject({
      caseId: live.id,
      erased: false,
      status: 'active',
      flaggedByRole: 'lead',
      heldByRole: 'intervener',
      identity: { platform: 'x', handle, displayName: 'Dan Drift', language: 'en' },
    });
    expect(c.indicators).toEqual([{ kind: 'shares_propaganda', evidenceUrl: 'https://example.org/post/1', note: 'reposted a manifesto' }]);
    expect(c.touchpoints).toEqual([expect.objectContaining({ summary: tp.summary, channel: 'paid_message', loggedByRole: 'intervener' })]);
    expect(c.notes).toEqual([expect.objectContaining({ body: 'Agreed to talk again next week', authorRole: 'intervener' })]);
    // The outbound message scheduled its own follow-up too.
    expect(c.followUps).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'check_in', note: 'ask about the gig', assigneeRole: 'intervener' })]),
    );
    expect(c.events.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['flagged', 'triage_accept', 'approve', 'assign']),
    );
    expect(c.referrals).toEqual([]);
    // The concern is there, its text left out until a dpo has reviewed it.
    expect(c.safeguardingConcerns).toEqual([
      expect.objectContaining({ id: concern.id, textIncluded: false, concern: null, actionTaken: null, raisedByRole: 'intervener' }),
    ]);
    // Minimal for everyone else: no staff ids, no staff names, no leads-only note, no unreviewed concern text.
    const names = await t.db.db.select({ id: staff.id, name: staff.name }).from(staff).where(eq(staff.programId, programId));
    for (const s of names) {
      expect(exported.body).not.toContain(s.id);
      expect(exported.body).not.toContain(s.name);
    }
    for (const secret of ['Leads only', 'staffing worry', 'hopeless', 'helpline number']) expect(exported.body).not.toContain(secret);
    // Audited, with every case it held.
    const audits = await t.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'dsr.export'), eq(auditLog.targetId, dsr.id)));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorId: dpo.id, programId, caseIds: [live.id] });

    // The dpo reviews the concern; only a dpo may, and only of their program.
    expect((await call(t, lead, 'POST', `/v1/safeguarding/${concern.id}/dpo-review`)).statusCode).toBe(403);
    expect((await call(t, sam, 'POST', `/v1/safeguarding/${concern.id}/dpo-review`)).statusCode).toBe(403);
    expectProblem(await call(t, other.dpo, 'POST', `/v1/safeguarding/${concern.id}/dpo-review`), 404, 'concern.not_found');
    expectProblem(await call(t, evaluator, 'POST', `/v1/safeguarding/${concern.id}/dpo-review`), 404, 'case.not_found');
    const reviewed = await ok<{ id: string; dpoReviewedAt: string }>(t, dpo, 'POST', `/v1/safeguarding/${concern.id}/dpo-review`);
    expect(reviewed.id).toBe(concern.id);
    const after = await ok<{ concernsPendingReview: string[]; cases: { safeguardingConcerns: unknown[] }[] }>(
      t,
      dpo,
      'GET',
      `/v1/dsr/${dsr.id}/export`,
    );
    expect(after.concernsPendingReview).toEqual([]);
    expect(after.cases[0]!.safeguardingConcerns).toEqual([
      expect.objectContaining({ textIncluded: true, concern: 'Mentioned feeling hopeless', actionTaken: 'Gave the helpline number' }),
    ]);

    // Only a dpo exports; only access requests have an export.
    expectProblem(await call(t, lead, 'GET', `/v1/dsr/${dsr.id}/export`), 403, 'auth.forbidden');
    expectProblem(await call(t, other.dpo, 'GET', `/v1/dsr/${dsr.id}/export`), 404, 'dsr.not_found');
    const rect = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(handle, 'rectification'));
    expectProblem(await call(t, dpo, 'GET', `/v1/dsr/${rect.id}/export`), 409, 'dsr.not_access');
  });

  it('an objection fulfilled erases and suppresses every match; the handle can never be flagged again', async () => {
    const handle = newHandle();
    const closed = await rejectedCase(handle);
    const active = await activeCase(t, lead, programId, sam.id, { profile: profile(handle) });
    const dsr = await ok<Dsr>(t, lead, 'POST', '/v1/dsr', dsrBody(`@${handle.toUpperCase()}`, 'objection'));
    expect(dsr.suppressed).toBe(false);
    expect(dsr.matches).toEqual(
      [
        { caseId: closed, status: 'rejected' },
        { caseId: active.id, status: 'active' },
      ].sort((a, b) => a.caseId.localeCompare(b.caseId)),
    );
    const done = await ok<Dsr>(t, lead, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'fulfilled', note: 'Objection upheld' });
    expect(done).toMatchObject({ status: 'closed', resolution: 'fulfilled' });
    expect(done.matches.map((m) => m.status)).toEqual(['erased', 'erased']);
    for (const id of [closed, active.id]) {
      const c = await ok<{ profile: { handle: string | null; displayName: string | null } }>(t, lead, 'GET', `/v1/cases/${id}`);
      expect(c.profile).toMatchObject({ handle: null, displayName: null });
    }
    expectProblem(await call(t, lead, 'POST', '/v1/cases', flagBody(programId, { profile: profile(handle) })), 422, 'profile.suppressed');
    expectProblem(await call(t, lead, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'fulfilled', note: 'again' }), 409, 'dsr.closed');

    // A later request about the subject still finds the erased cases (earlier matches) and the suppression.
    const later = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(`https://twitter.com/${handle}`, 'access'));
    expect(later.suppressed).toBe(true);
    expect(later.matches.map((m) => m.status)).toEqual(['erased', 'erased']);
    const x = await ok<{ cases: { erased: boolean; notice?: string }[]; keyedHashOnly: string | null }>(
      t,
      dpo,
      'GET',
      `/v1/dsr/${later.id}/export`,
    );
    expect(x.cases).toHaveLength(2);
    for (const c of x.cases) expect(c).toMatchObject({ erased: true, notice: expect.stringMatching(/keyed hash/) });
    expect(x.keyedHashOnly).toMatch(/keyed hash/);

    // An objection about a profile Overture never held: suppressed all the same.
    const never = newHandle();
    const none = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(never, 'objection'));
    expect(none.matches).toEqual([]);
    await ok(t, dpo, 'POST', `/v1/dsr/${none.id}/close`, { resolution: 'fulfilled', note: 'Never to be flagged' });
    expectProblem(await call(t, lead, 'POST', '/v1/cases', flagBody(programId, { profile: profile(never) })), 422, 'profile.suppressed');
  });

  it('a held match refuses the erasure (409 case.on_hold) and nothing changes; released, it goes ahead', async () => {
    const handle = newHandle();
    const closed = await rejectedCase(handle);
    const held = await activeCase(t, lead, programId, sam.id, { profile: profile(handle) });
    const hold = await ok<{ id: string }>(t, dpo, 'POST', `/v1/cases/${held.id}/holds`, { reason: 'complaint' });
    const dsr = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(handle, 'erasure'));
    expect(dsr.matches).toHaveLength(2);
    const res = await call(t, dpo, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'fulfilled', note: 'Erase' });
    expect(expectProblem(res, 409, 'case.on_hold')).toMatchObject({ caseId: held.id });
    expect(await ok<Dsr>(t, dpo, 'GET', `/v1/dsr/${dsr.id}`)).toMatchObject({ status: 'open', resolution: null });
    for (const id of [closed, held.id]) {
      const c = await ok<{ profile: { handle: string | null; displayName: string | null } }>(t, lead, 'GET', `/v1/cases/${id}`);
      expect(c.profile).toMatchObject({ handle, displayName: 'Dan Drift' });
    }
    // Not suppressed either: the whole close rolled back.
    expect((await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(handle, 'access'))).suppressed).toBe(false);

    await ok(t, dpo, 'DELETE', `/v1/holds/${hold.id}`);
    const done = await ok<Dsr>(t, dpo, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'fulfilled', note: 'Erase' });
    expect(done.matches.map((m) => m.status)).toEqual(['erased', 'erased']);
  });

  it('refusing an erasure erases nothing', async () => {
    const handle = newHandle();
    const c = await activeCase(t, lead, programId, sam.id, { profile: profile(handle) });
    const dsr = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(handle, 'erasure'));
    const done = await ok<Dsr>(t, dpo, 'POST', `/v1/dsr/${dsr.id}/close`, { resolution: 'refused', note: 'Safeguarding grounds' });
    expect(done).toMatchObject({ status: 'closed', resolution: 'refused', matches: [{ caseId: c.id, status: 'active' }] });
  });

  it('due dates through the API: 31 January → 28 February, extended once to 28 April; 30 November → 30 December', async () => {
    const jan = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(newHandle(), 'access', { receivedAt: '2026-01-31T10:15:00Z' }));
    expect(jan.dueAt).toBe('2026-02-28T10:15:00.000Z');
    expect(jan.overdue).toBe(true);
    const extended = await ok<Dsr & { extensionReason: string }>(t, dpo, 'POST', `/v1/dsr/${jan.id}/extend`, { reason: 'Complex request' });
    expect(extended).toMatchObject({
      dueAt: '2026-02-28T10:15:00.000Z',
      extendedUntil: '2026-04-28T10:15:00.000Z',
      extensionReason: 'Complex request',
    });
    expectProblem(await call(t, dpo, 'POST', `/v1/dsr/${jan.id}/extend`, { reason: 'Again' }), 409, 'dsr.already_extended');
    const nov = await ok<Dsr>(t, lead, 'POST', '/v1/dsr', dsrBody(newHandle(), 'access', { receivedAt: '2026-11-30T09:00:00Z' }));
    expect(nov.dueAt).toBe('2026-12-30T09:00:00.000Z');
    await ok(t, lead, 'POST', `/v1/dsr/${nov.id}/close`, { resolution: 'no_data', note: 'Nothing held' });
    expectProblem(await call(t, lead, 'POST', `/v1/dsr/${nov.id}/extend`, { reason: 'Late' }), 409, 'dsr.closed');

    // Lists by status, paginated.
    const all = async (status: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const q = `/v1/dsr?status=${status}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const pg: { items: Dsr[]; nextCursor: string | null } = await ok(t, dpo, 'GET', q);
        expect(pg.items.length).toBeLessThanOrEqual(2);
        for (const d of pg.items) expect(d.status).toBe(status === 'closed' ? 'closed' : 'open');
        ids.push(...pg.items.map((d) => d.id));
        cursor = pg.nextCursor;
      } while (cursor);
      return ids;
    };
    const overdue = await all('overdue');
    expect(overdue).toContain(jan.id);
    expect(overdue).not.toContain(nov.id);
    expect(await all('closed')).toContain(nov.id);
    const open = await all('open');
    expect(open).toContain(jan.id);
    expect(open).not.toContain(nov.id);
    expect(new Set(open).size).toBe(open.length);
    const rows = await t.db.db
      .select({ id: dsrRequests.id, status: dsrRequests.status })
      .from(dsrRequests)
      .where(eq(dsrRequests.programId, programId));
    expect(open.length).toBe(rows.filter((r) => r.status === 'open').length);
  });

  it('is scoped: another program reads 404; interveners, analysts, evaluators and admins are refused', async () => {
    const mine = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(newHandle()));
    expectProblem(await call(t, other.dpo, 'GET', `/v1/dsr/${mine.id}`), 404, 'dsr.not_found');
    expectProblem(await call(t, other.lead, 'GET', `/v1/dsr/${mine.id}`), 404, 'dsr.not_found');
    expectProblem(await call(t, other.dpo, 'POST', `/v1/dsr/${mine.id}/close`, { resolution: 'refused', note: 'x' }), 404, 'dsr.not_found');
    expectProblem(await call(t, other.dpo, 'POST', `/v1/dsr/${mine.id}/extend`, { reason: 'x' }), 404, 'dsr.not_found');
    expectProblem(await request(other.dpo, dsrBody(newHandle())), 404, 'program.not_found');
    const theirs = await ok<{ items: Dsr[] }>(t, other.dpo, 'GET', '/v1/dsr');
    expect(theirs.items.map((d) => d.id)).not.toContain(mine.id);
    for (const who of [sam, analyst, evaluator, admin]) {
      expectProblem(await request(who, dsrBody(newHandle())), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', '/v1/dsr'), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', `/v1/dsr/${mine.id}`), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', `/v1/dsr/${mine.id}/export`), 403, 'auth.forbidden');
    }
    // A dpo's case route is 404, as if there were no case.
    const c = await activeCase(t, lead, programId, sam.id);
    expectProblem(await call(t, dpo, 'GET', `/v1/cases/${c.id}`), 404, 'case.not_found');
  });

  it('refuses hostile bodies with 400', async () => {
    const bad: [Record<string, unknown>, string?][] = [
      [{ ...dsrBody(newHandle()), extra: true }],
      [{ ...dsrBody(newHandle()), type: 'deletion' }],
      [{ ...dsrBody(newHandle()), profile: { platform: 'x' } }],
      [{ ...dsrBody(newHandle()), profile: { platform: 'x', handle: 'ok_name', caseId: programId } }],
      [{ ...dsrBody(newHandle()), profile: { platform: 'myspace', handle: 'dan' } }],
      [{ ...dsrBody('dan\u0000x') }],
      [{ ...dsrBody('dan\u202Ex') }],
      [{ ...dsrBody('not a handle!') }, 'profile.invalid_handle'],
      [{ ...dsrBody(newHandle()), receivedAt: 'yesterday' }],
      [{ ...dsrBody(newHandle()), receivedAt: '1999-12-31T00:00:00Z' }],
      [{ ...dsrBody(newHandle()), receivedAt: iso(DAY) }, 'dsr.received_in_future'],
      [{ ...dsrBody(newHandle()), programId: 'not-a-uuid' }],
      [{ ...dsrBody(newHandle()), note: 'x'.repeat(2001) }],
    ];
    for (const [body, code] of bad) {
      const res = await request(dpo, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      if (code) expect(res.json().code).toBe(code);
    }
    expect((await call(t, dpo, 'POST', '/v1/dsr', '[1,2]', { 'content-type': 'application/json' })).statusCode).toBe(400);
    const d = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', dsrBody(newHandle()));
    for (const body of [
      {},
      { resolution: 'done', note: 'x' },
      { resolution: 'fulfilled' },
      { resolution: 'fulfilled', note: '' },
      { resolution: 'refused', note: 'x', also: 1 },
    ]) {
      expect((await call(t, dpo, 'POST', `/v1/dsr/${d.id}/close`, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    for (const body of [{}, { reason: '' }, { reason: 'x', days: 30 }]) {
      expect((await call(t, dpo, 'POST', `/v1/dsr/${d.id}/extend`, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await call(t, dpo, 'GET', '/v1/dsr/not-a-uuid')).statusCode).toBe(400);
    expect((await call(t, dpo, 'GET', '/v1/dsr?status=late')).statusCode).toBe(400);
    expect((await call(t, dpo, 'GET', '/v1/dsr?cursor=bogus')).statusCode).toBe(400);
    expect((await call(t, dpo, 'POST', `/v1/safeguarding/${d.id}/dpo-review`, { note: 'x' })).statusCode).toBe(400);
    expect(await ok<Dsr>(t, dpo, 'GET', `/v1/dsr/${d.id}`)).toMatchObject({ status: 'open' });
  });

  it('a dpo reads and verifies their own program’s audit entries only', async () => {
    await ok(t, other.dpo, 'POST', '/v1/dsr', { ...dsrBody(newHandle()), programId: other.programId });
    const readAll = async (who: Who) => {
      const out: { programId: string | null; action: string }[] = [];
      let cursor: string | null = null;
      do {
        const pg: { items: { programId: string | null; action: string }[]; nextCursor: string | null } = await ok(
          t,
          who,
          'GET',
          `/v1/audit?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        );
        out.push(...pg.items);
        cursor = pg.nextCursor;
      } while (cursor);
      return out;
    };
    const mine = await readAll(dpo);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.programId === programId)).toBe(true);
    expect(mine.map((e) => e.action)).toContain('dsr.create');
    const theirs = await readAll(other.dpo);
    expect(theirs.every((e) => e.programId === other.programId)).toBe(true);
    expect(theirs.map((e) => e.action)).toContain('dsr.create');
    const everything = await readAll(admin);
    const counted = everything.filter((e) => e.programId === programId).length;
    expect(counted).toBe(mine.length);

    const v = await ok<{ ok: boolean; checked: number; firstBrokenId: string | null }>(t, dpo, 'GET', '/v1/audit/verify');
    expect(v.ok).toBe(true);
    // At least what it listed a moment ago (reads since may have added more), never the whole chain.
    expect(v.checked).toBeGreaterThanOrEqual(mine.length);
    const whole = await ok<{ ok: boolean; checked: number }>(t, admin, 'GET', '/v1/audit/verify');
    expect(whole.ok).toBe(true);
    expect(v.checked).toBeLessThan(whole.checked);
    for (const who of [lead, sam, analyst, evaluator]) {
      expectProblem(await call(t, who, 'GET', '/v1/audit'), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', '/v1/audit/verify'), 403, 'auth.forbidden');
    }
  });
});

describe.each(backends)('DSR deadlines notify on $backend', ({ redisUrl }) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ redisUrl });
  });
  afterAll(() => t.close());

  it('dsr_due_soon 7 days before and dsr_overdue once passed, to the dpos and leads, once each', async () => {
    const { programId, lead, dpo, dpo2, sam } = await cast(t, { lead: 'lead', dpo: 'dpo', dpo2: 'dpo', sam: 'intervener' });
    const outsider = await cast(t, { dpo: 'dpo' });
    const make = async (receivedAt: string) =>
      ok<Dsr>(t, dpo, 'POST', '/v1/dsr', { programId, type: 'access', profile: { platform: 'x', handle: newHandle() }, receivedAt });
    // Due ten-odd days ago: due soon and overdue. Due in 1 to 4 days: due soon only. Due in a month: neither.
    const late = await make(iso(-40 * DAY));
    const soon = await make(iso(-27 * DAY));
    const fresh = await make(iso(-60_000));
    expect(late.overdue).toBe(true);
    expect(soon.overdue).toBe(false);
    expect(new Date(soon.dueAt).getTime() - Date.now()).toBeLessThan(7 * DAY);
    expect(new Date(fresh.dueAt).getTime() - Date.now()).toBeGreaterThan(7 * DAY);

    const admin = await t.staff('admin', null);
    const w = await workersFor(t);
    try {
      // The maintenance reconcile, run on this backend's queue.
      const run = await ok<{ state: string; result: { dsrDueSoon: number; dsrOverdue: number; failedPrograms: string[] } }>(
        t,
        admin,
        'POST',
        '/v1/admin/jobs/reconcile/run?wait=true',
        {},
      );
      expect(run.state).toBe('completed');
      expect(run.result.failedPrograms).toEqual([]);
      expect(run.result).toMatchObject({ dsrDueSoon: 2, dsrOverdue: 1 });
    } finally {
      await w.close(5_000);
    }
    // Again, and twice at once: nothing more.
    const [a, b] = await Promise.all([reconcile(t.db.db, t.clock), reconcile(t.db.db, t.clock)]);
    expect(a!.dsrDueSoon + b!.dsrDueSoon + a!.dsrOverdue + b!.dsrOverdue).toBe(0);
    expect((await reconcile(t.db.db, t.clock)).dsrOverdue).toBe(0);

    const about = async (who: Who, kind: string, id: string) => (await inbox(t, who.id, kind)).filter((n) => n.subjectId === id);
    for (const who of [lead, dpo, dpo2]) {
      expect(await about(who, 'dsr_due_soon', late.id)).toHaveLength(1);
      expect(await about(who, 'dsr_overdue', late.id)).toHaveLength(1);
      expect(await about(who, 'dsr_due_soon', soon.id)).toHaveLength(1);
      expect(await about(who, 'dsr_overdue', soon.id)).toHaveLength(0);
      expect(await about(who, 'dsr_due_soon', fresh.id)).toHaveLength(0);
      expect(await about(who, 'dsr_overdue', fresh.id)).toHaveLength(0);
    }
    const [n] = await about(dpo, 'dsr_overdue', late.id);
    expect(n).toMatchObject({ programId, caseId: null });
    for (const who of [sam, outsider.dpo]) {
      expect(await inbox(t, who.id, 'dsr_due_soon')).toHaveLength(0);
      expect(await inbox(t, who.id, 'dsr_overdue')).toHaveLength(0);
    }
    // Stored once: the request remembers it told.
    const rows = await t.db.db
      .select()
      .from(dsrRequests)
      .where(inArray(dsrRequests.id, [late.id, soon.id, fresh.id]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(late.id)!.overdueNotifiedAt).toBeInstanceOf(Date);
    expect(byId.get(soon.id)!.overdueNotifiedAt).toBeNull();
    expect(byId.get(fresh.id)!.dueSoonNotifiedAt).toBeNull();
  });
});

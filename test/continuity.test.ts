import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followUps } from '../src/db/schema/index.js';
import { notify } from '../src/domain/notifications/notify.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, ok } from './helpers/story.js';
import { backends, inbox, workersFor } from './helpers/workers.js';

// API.md, "Continuity of care": handover, leavers, absences and cover.
const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
type Page<T> = { items: T[]; nextCursor: string | null };
type Notification = { id: string; kind: string; caseId: string | null; hasHandoverNote?: boolean };

describe('handover', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let leaver: Who;
  let roomy: Who;
  let full: Who;
  let admin: Who;

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, leaver, roomy, full, admin } = await cast(t, {
      lead: 'lead',
      leaver: { role: 'intervener', maxCaseload: 10 },
      roomy: { role: 'intervener', specialisms: ['far_right'], languages: ['en'], maxCaseload: 10 },
      full: { role: 'intervener', maxCaseload: 1 },
      admin: 'admin',
    }));
  });
  afterAll(() => t.close());

  it('moves every active case to one receiver with its follow-ups and a handover note, skipping what would break a cap', async () => {
    const a = await activeCase(t, lead, programId, leaver.id);
    const b = await activeCase(t, lead, programId, leaver.id);
    const f = await ok<{ id: string; assigneeId: string }>(t, leaver, 'POST', `/v1/cases/${a.id}/follow-ups`, {
      dueAt: iso(86_400_000),
      kind: 'check_in',
    });
    // `full` can take one case: the first moves, the second is skipped at the cap.
    const res = await ok<{ moved: { caseId: string; toIntervenerId: string }[]; skipped: { caseId: string; code: string }[] }>(
      t,
      lead,
      'POST',
      `/v1/staff/${leaver.id}/handover`,
      { toIntervenerId: full.id, reason: 'leaving the program', note: 'Replies in the evenings.' },
    );
    const [first, second] = [a.id, b.id].sort();
    expect(res.moved).toEqual([{ caseId: first, toIntervenerId: full.id }]);
    expect(res.skipped).toEqual([{ caseId: second, code: 'staff.over_capacity' }]);
    const moved = await ok<{ assigneeId: string }>(t, lead, 'GET', `/v1/cases/${first}`);
    expect(moved.assigneeId).toBe(full.id);
    // The old holder loses the case at once; the new one has it, with its follow-up and the note.
    expect((await call(t, leaver, 'GET', `/v1/cases/${first}`)).statusCode).toBe(404);
    expect((await call(t, full, 'GET', `/v1/cases/${first}`)).statusCode).toBe(200);
    if (first === a.id) {
      const [row] = await t.db.db.select().from(followUps).where(eq(followUps.id, f.id));
      expect(row!.assigneeId).toBe(full.id);
    }
    const assigned = (await ok<Page<Notification>>(t, full, 'GET', '/v1/me/notifications')).items.filter(
      (n) => n.kind === 'case_assigned' && n.caseId === first,
    );
    expect(assigned).toHaveLength(1);
    expect(assigned[0]!.hasHandoverNote).toBe(true);
    const notes = await ok<Page<{ kind: string; body: string }>>(t, full, 'GET', `/v1/cases/${first}/notes`);
    expect(notes.items).toEqual([expect.objectContaining({ kind: 'handover', body: 'Replies in the evenings.' })]);
  });

  it('ranked: each case to its first candidate; a receiver at capacity is skipped with staff.over_capacity', async () => {
    const {
      programId: p,
      lead: l,
      gone,
      only,
    } = await cast(t, {
      lead: 'lead',
      gone: 'intervener',
      only: { role: 'intervener', maxCaseload: 1 },
    });
    const c1 = await activeCase(t, l, p, gone.id);
    const c2 = await activeCase(t, l, p, gone.id);
    const res = await ok<{ moved: unknown[]; skipped: { caseId: string; code: string }[] }>(t, l, 'POST', `/v1/staff/${gone.id}/handover`, {
      strategy: 'ranked',
      reason: 'leaving',
    });
    expect(res.moved).toEqual([{ caseId: [c1.id, c2.id].sort()[0], toIntervenerId: only.id }]);
    expect(res.skipped).toEqual([{ caseId: [c1.id, c2.id].sort()[1], code: 'staff.over_capacity' }]);
  });

  it('refuses a bad request and changes nothing', async () => {
    const c = await activeCase(t, lead, programId, roomy.id);
    for (const body of [
      { reason: 'no target' },
      { toIntervenerId: full.id, strategy: 'ranked', reason: 'both' },
      { toIntervenerId: roomy.id, reason: 'to themself' },
      { toIntervenerId: lead.id, reason: 'not an intervener' },
      { toIntervenerId: full.id },
      { toIntervenerId: full.id, reason: 'x', extra: true },
      { strategy: 'random', reason: 'x' },
    ]) {
      const res = await call(t, lead, 'POST', `/v1/staff/${roomy.id}/handover`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await ok<{ assigneeId: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).assigneeId).toBe(roomy.id);
    expect((await call(t, roomy, 'POST', `/v1/staff/${roomy.id}/handover`, { strategy: 'ranked', reason: 'x' })).statusCode).toBe(403);
    expect((await call(t, admin, 'POST', `/v1/staff/${roomy.id}/handover`, { strategy: 'ranked', reason: 'x' })).statusCode).toBe(403);
    const other = await cast(t, { lead: 'lead' });
    expect((await call(t, other.lead, 'POST', `/v1/staff/${roomy.id}/handover`, { strategy: 'ranked', reason: 'x' })).statusCode).toBe(404);
  });

  it('assignment takes a handoverNote too', async () => {
    const c = await activeCase(t, lead, programId, roomy.id);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: leaver.id, handoverNote: 'Be gentle about work.' });
    const assigned = (await ok<Page<Notification>>(t, leaver, 'GET', '/v1/me/notifications')).items.find(
      (n) => n.kind === 'case_assigned' && n.caseId === c.id,
    );
    expect(assigned?.hasHandoverNote).toBe(true);
  });
});

describe('leavers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('deactivating a holder orphans their cases: leads are told, can list them, and get the holder’s notifications until the cases move', async () => {
    const { programId, lead, lead2, sam, kim, admin } = await cast(t, {
      lead: 'lead',
      lead2: 'lead',
      sam: 'intervener',
      kim: 'intervener',
      admin: 'admin',
    });
    const c = await activeCase(t, lead, programId, sam.id);
    const quiet = await activeCase(t, lead, programId, kim.id);
    await ok(t, admin, 'PATCH', `/v1/staff/${sam.id}`, { active: false });
    expect((await call(t, sam, 'GET', '/v1/me')).statusCode).toBe(401);
    for (const l of [lead, lead2]) {
      const orphaned = (await ok<Page<Notification>>(t, l, 'GET', '/v1/me/notifications')).items.filter(
        (n) => n.kind === 'caseload_orphaned',
      );
      expect(orphaned).toHaveLength(1);
    }
    const listed = await ok<Page<{ id: string }>>(t, lead, 'GET', '/v1/cases?orphaned=true');
    expect(listed.items.map((i) => i.id)).toEqual([c.id]);
    expect((await ok<Page<{ id: string }>>(t, lead, 'GET', '/v1/cases?orphaned=false&status=active')).items.map((i) => i.id)).toContain(
      quiet.id,
    );
    expect((await call(t, kim, 'GET', '/v1/cases?orphaned=true')).statusCode).toBe(403);
    // Reassigning to the deactivated holder is refused; a concern on the orphaned case reaches the leads (they are its holder's stand-ins).
    expect((await call(t, lead, 'POST', `/v1/cases/${quiet.id}/assignment`, { intervenerId: sam.id })).json().code).toBe('staff.inactive');
    const moved = await ok<{ moved: unknown[] }>(t, lead, 'POST', `/v1/staff/${sam.id}/handover`, {
      toIntervenerId: kim.id,
      reason: 'left',
    });
    expect(moved.moved).toHaveLength(1);
    expect((await ok<Page<{ id: string }>>(t, lead, 'GET', '/v1/cases?orphaned=true')).items).toEqual([]);
  });
});

describe('absences and cover', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let sam: Who;
  let kim: Who;
  let ana: Who;

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, sam, kim, ana } = await cast(t, {
      lead: 'lead',
      sam: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
      kim: 'intervener',
      ana: 'analyst',
    }));
  });
  afterAll(() => t.close());

  it('a cover works the absent colleague’s cases for exactly the period, then loses them', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    expect((await call(t, kim, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(404);
    const absence = await ok<{ id: string; coverId: string }>(t, lead, 'POST', `/v1/staff/${sam.id}/absences`, {
      from: iso(-60_000),
      to: iso(3_600_000),
      coverId: kim.id,
      reason: 'leave',
    });
    expect(absence.coverId).toBe(kim.id);
    // Open: the cover reads and works the case, and sees it on Today.
    expect((await call(t, kim, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(200);
    await ok(t, kim, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: iso(0),
    });
    const today = await ok<{ items: { id: string }[] }>(t, kim, 'GET', '/v1/me/caseload');
    expect(today.items.map((i) => i.id)).toContain(c.id);
    // The absent colleague's notifications go to the cover.
    await ok(t, kim, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'high', concern: 'a worry', actionTaken: 'told the lead' });
    // Left out of candidates, and assigning to them needs an override.
    const other = await activeCase(t, lead, programId, kim.id);
    const candidates = await ok<{ items: { intervenerId: string }[] }>(t, lead, 'GET', `/v1/cases/${other.id}/candidates`);
    expect(candidates.items.map((i) => i.intervenerId)).not.toContain(sam.id);
    const refused = await call(t, lead, 'POST', `/v1/cases/${other.id}/assignment`, { intervenerId: sam.id });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'staff.absent' });
    await ok(t, lead, 'POST', `/v1/cases/${other.id}/assignment`, {
      intervenerId: sam.id,
      override: true,
      reason: 'urgent, agreed by phone',
    });
    const toKim = (await ok<Page<Notification>>(t, kim, 'GET', '/v1/me/notifications')).items.filter(
      (n) => n.kind === 'case_assigned' && n.caseId === other.id,
    );
    // One when the case was first assigned to Kim, one standing in for Sam; none to Sam.
    expect(toKim).toHaveLength(2);
    expect((await inbox(t, sam.id, 'case_assigned')).filter((n) => n.caseId === other.id)).toHaveLength(0);
    // Closed: ending the absence takes the cases away from the cover at once.
    expect((await call(t, lead, 'DELETE', `/v1/absences/${absence.id}`)).statusCode).toBe(204);
    expect((await call(t, kim, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(404);
    expect((await ok<{ items: { id: string }[] }>(t, kim, 'GET', '/v1/me/caseload')).items.map((i) => i.id)).not.toContain(c.id);
    expect((await call(t, sam, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(200);
  });

  it('a future absence gives no access yet; without cover the leads get the notifications', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const later = await ok<{ id: string }>(t, lead, 'POST', `/v1/staff/${sam.id}/absences`, {
      from: iso(3_600_000 * 5),
      to: iso(3_600_000 * 6),
      coverId: kim.id,
    });
    expect((await call(t, kim, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(404);
    await ok(t, lead, 'DELETE', `/v1/absences/${later.id}`).catch(() => undefined);
    // Sam records their own absence, without a cover.
    const own = await ok<{ id: string; staffId: string }>(t, sam, 'POST', `/v1/staff/${sam.id}/absences`, {
      from: iso(-1_000),
      to: iso(3_600_000),
    });
    expect(own.staffId).toBe(sam.id);
    const moved = await activeCase(t, lead, programId, kim.id);
    await ok(t, lead, 'POST', `/v1/cases/${moved.id}/assignment`, { intervenerId: sam.id, override: true, reason: 'agreed' });
    const toLead = (await ok<Page<Notification>>(t, lead, 'GET', '/v1/me/notifications')).items.filter(
      (n) => n.kind === 'case_assigned' && n.caseId === moved.id,
    );
    expect(toLead).toHaveLength(1);
    const listed = await ok<Page<{ id: string }>>(t, sam, 'GET', `/v1/staff/${sam.id}/absences`);
    expect(listed.items.map((a) => a.id)).toContain(own.id);
    await ok(t, sam, 'DELETE', `/v1/absences/${own.id}`).catch(() => undefined);
    expect((await call(t, sam, 'DELETE', `/v1/absences/${own.id}`)).statusCode).toBe(404);
  });

  it('refuses hostile or out-of-role absences and stores nothing', async () => {
    const before = (await ok<Page<unknown>>(t, lead, 'GET', `/v1/staff/${kim.id}/absences`)).items.length;
    for (const body of [
      { from: iso(1_000), to: iso(0) },
      { from: iso(0), to: iso(400 * 86_400_000) },
      { from: 'yesterday', to: iso(1_000) },
      { from: iso(0), to: iso(1_000), coverId: kim.id },
      { from: iso(0), to: iso(1_000), coverId: lead.id },
      { from: iso(0), to: iso(1_000), extra: 1 },
      { from: iso(0), to: iso(1_000), reason: 'x'.repeat(201) },
    ]) {
      const res = await call(t, lead, 'POST', `/v1/staff/${kim.id}/absences`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    // An intervener may not name a cover, nor record someone else's absence.
    expect((await call(t, kim, 'POST', `/v1/staff/${kim.id}/absences`, { from: iso(0), to: iso(1_000), coverId: sam.id })).statusCode).toBe(
      403,
    );
    expect((await call(t, kim, 'POST', `/v1/staff/${sam.id}/absences`, { from: iso(0), to: iso(1_000) })).statusCode).toBe(404);
    expect((await call(t, ana, 'POST', `/v1/staff/${kim.id}/absences`, { from: iso(0), to: iso(1_000) })).statusCode).toBe(403);
    // Overlap.
    await ok(t, lead, 'POST', `/v1/staff/${kim.id}/absences`, { from: iso(86_400_000), to: iso(2 * 86_400_000) });
    const overlap = await call(t, lead, 'POST', `/v1/staff/${kim.id}/absences`, { from: iso(1.5 * 86_400_000), to: iso(3 * 86_400_000) });
    expect(overlap.json()).toMatchObject({ code: 'absence.overlaps' });
    expect((await ok<Page<unknown>>(t, lead, 'GET', `/v1/staff/${kim.id}/absences`)).items.length).toBe(before + 1);
  });
});

describe.each(backends)('follow-ups after a handover on $backend', ({ redisUrl }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ redisUrl });
  });
  afterAll(() => t.close());

  it('fire for the new holder only, and none is lost', async () => {
    const { programId, lead, old, next } = await cast(t, { lead: 'lead', old: 'intervener', next: 'intervener' }, { overdueGrace: 'PT1H' });
    const w = await workersFor(t);
    try {
      const c = await activeCase(t, lead, programId, old.id);
      const f = await ok<{ id: string }>(t, old, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: iso(2_000), kind: 'check_in' });
      await ok(t, lead, 'POST', `/v1/staff/${old.id}/handover`, { toIntervenerId: next.id, reason: 'rota change' });
      await expect
        .poll(async () => (await t.db.db.select().from(followUps).where(eq(followUps.id, f.id)))[0]!.status, { timeout: 15_000 })
        .toBe('due');
      expect((await inbox(t, next.id, 'follow_up_due')).filter((n) => n.subjectId === f.id)).toHaveLength(1);
      expect((await inbox(t, old.id, 'follow_up_due')).filter((n) => n.subjectId === f.id)).toHaveLength(0);
    } finally {
      await w.close(5_000);
    }
  });

  it('an absent holder’s due follow-up reaches their cover, not them', async () => {
    const { programId, lead, away, cover } = await cast(
      t,
      { lead: 'lead', away: 'intervener', cover: 'intervener' },
      { overdueGrace: 'PT1H' },
    );
    const w = await workersFor(t);
    try {
      const c = await activeCase(t, lead, programId, away.id);
      const f = await ok<{ id: string }>(t, away, 'POST', `/v1/cases/${c.id}/follow-ups`, { dueAt: iso(1_500), kind: 'check_in' });
      await ok(t, lead, 'POST', `/v1/staff/${away.id}/absences`, { from: iso(-1_000), to: iso(3_600_000), coverId: cover.id });
      await expect
        .poll(async () => (await inbox(t, cover.id, 'follow_up_due')).filter((n) => n.subjectId === f.id).length, { timeout: 15_000 })
        .toBe(1);
      expect((await inbox(t, away.id, 'follow_up_due')).filter((n) => n.subjectId === f.id)).toHaveLength(0);
    } finally {
      await w.close(5_000);
    }
  });
});

describe('notifications go to whoever can act on them', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const note = (programId: string, caseId: string) => ({
    kind: 'response_overdue' as const,
    programId,
    caseId,
    subjectId: caseId,
    occurrence: `routing-${caseId}`,
  });

  it('a deactivated holder’s go to the program’s leads, an absent one’s to the cover, a present one’s to them', async () => {
    const { programId, lead, gone, away, cover, here, admin } = await cast(t, {
      lead: 'lead',
      gone: 'intervener',
      away: 'intervener',
      cover: 'intervener',
      here: 'intervener',
      admin: 'admin',
    });
    const [c1, c2, c3] = [
      await activeCase(t, lead, programId, gone.id),
      await activeCase(t, lead, programId, away.id),
      await activeCase(t, lead, programId, here.id),
    ];
    await ok(t, admin, 'PATCH', `/v1/staff/${gone.id}`, { active: false });
    await ok(t, lead, 'POST', `/v1/staff/${away.id}/absences`, { from: iso(-1_000), to: iso(3_600_000), coverId: cover.id });
    await notify(t.db.db, [gone.id], note(programId, c1.id));
    await notify(t.db.db, [away.id], note(programId, c2.id));
    await notify(t.db.db, [here.id], note(programId, c3.id));
    const got = async (who: Who, caseId: string) => (await inbox(t, who.id, 'response_overdue')).filter((n) => n.caseId === caseId).length;
    expect([await got(lead, c1.id), await got(gone, c1.id)]).toEqual([1, 0]);
    expect([await got(cover, c2.id), await got(away, c2.id), await got(lead, c2.id)]).toEqual([1, 0, 0]);
    expect([await got(here, c3.id), await got(lead, c3.id)]).toEqual([1, 0]);
  });

  it('an evaluator reads intervener rows by id, without the names a lead sees', async () => {
    const { programId, lead, sam, evaluator } = await cast(
      t,
      { lead: 'lead', sam: 'intervener', evaluator: 'evaluator' },
      { minCellSize: 1 },
    );
    await activeCase(t, lead, programId, sam.id);
    const url = `/v1/reports/engagement?programId=${programId}&from=2020-01-01&to=${iso(86_400_000).slice(0, 10)}&groupBy=intervener`;
    const asLead = await ok<{ rows: { group: string; name?: string | null }[] }>(t, lead, 'GET', url);
    const asEvaluator = await ok<{ rows: { group: string; name?: string | null }[] }>(t, evaluator, 'GET', url);
    expect(asLead.rows.find((r) => r.group === sam.id)?.name).toBeTruthy();
    const row = asEvaluator.rows.find((r) => r.group === sam.id);
    expect(row).toBeDefined();
    expect(row?.name ?? null).toBeNull();
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayWrite, NOTE_BODY_MAX, visibleTo } from '../src/domain/notes/rules.js';
import { addHandoverNote } from '../src/domain/notes/service.js';
import { applyRetention } from '../src/domain/retention/policy.js';
import { authenticate } from '../src/domain/staff/tokens.js';
import { run } from '../src/domain/unit-of-work.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, flagBody, ok } from './helpers/story.js';

interface Note {
  id: string;
  caseId: string;
  kind: string;
  body: string | null;
  visibility: string;
  authorId: string;
  createdAt: string;
}
interface NotePage {
  items: Note[];
  nextCursor: string | null;
}

/** Every log line the app writes, at every level, through the production logger. */
const logLines: string[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ logLines });
});
afterAll(() => t.close());

/** Text no code path would write by itself. */
const mark = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}`;
const notesUrl = (caseId: string) => `/v1/cases/${caseId}/notes`;
const note = (body: string, extra: Record<string, unknown> = {}) => ({ kind: 'general', body, visibility: 'case', ...extra });
const list = (who: Who, caseId: string, query = '') => ok<NotePage>(t, who, 'GET', `${notesUrl(caseId)}${query}`);
const rowsOf = async (caseId: string) =>
  (await t.db.pool.query<{ n: number }>('select count(*)::int as n from case_notes where case_id = $1', [caseId])).rows[0]!.n;

/** Every row of every table, every text-like column, searched for `needle` (as test/privacy.test.ts does). */
async function findEverywhere(needle: string): Promise<string[]> {
  const { rows: columns } = await t.db.pool.query<{ table_schema: string; table_name: string; column_name: string }>(
    `select c.table_schema, c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
      where c.table_schema not in ('pg_catalog', 'information_schema')
        and (c.data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea') or c.udt_name in ('text', 'varchar', 'jsonb'))`,
  );
  expect(columns.some((c) => c.table_name === 'case_notes' && c.column_name === 'body')).toBe(true);
  const hits: string[] = [];
  for (const c of columns) {
    const q = `select count(*)::int as n from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text ilike $1`;
    const { rows } = await t.db.pool.query<{ n: number }>(q, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
  }
  return hits;
}

describe('note rules', () => {
  it('a lead reads and writes both visibilities, an intervener only `case`, anyone else nothing', () => {
    expect(visibleTo('lead')).toEqual(['case', 'leads']);
    expect(visibleTo('intervener')).toEqual(['case']);
    expect(visibleTo('analyst')).toEqual([]);
    expect(visibleTo('admin')).toEqual([]);
    expect(mayWrite('lead', 'leads')).toBe(true);
    expect(mayWrite('intervener', 'case')).toBe(true);
    expect(mayWrite('intervener', 'leads')).toBe(false);
    expect(mayWrite('analyst', 'case')).toBe(false);
    expect(NOTE_BODY_MAX).toBe(2000);
  });
});

describe('case notes', () => {
  it('the holder and a lead write notes; each reads them newest first, and the holder never sees a `leads` note', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const first = await call(t, sam, 'POST', notesUrl(c.id), note('They asked for a few days to think.\nAgreed to wait.'));
    expect(first.statusCode).toBe(201);
    const mine = first.json<Note>();
    expect(mine).toEqual({
      id: expect.any(String),
      caseId: c.id,
      kind: 'general',
      body: 'They asked for a few days to think.\nAgreed to wait.',
      visibility: 'case',
      authorId: sam.id,
      createdAt: expect.any(String),
    });
    const supervision = await ok<Note>(t, lead, 'POST', notesUrl(c.id), note('Talked it through in supervision.', { kind: 'supervision' }));
    const secret = mark('leads-only');
    const leadsOnly = await ok<Note>(t, lead, 'POST', notesUrl(c.id), note(secret, { visibility: 'leads' }));
    expect(leadsOnly).toMatchObject({ visibility: 'leads', authorId: lead.id });
    // Surrounding whitespace is trimmed, as in every free-text field.
    expect((await ok<Note>(t, sam, 'POST', notesUrl(c.id), note('  padded  ', { kind: 'handover' }))).body).toBe('padded');

    const forLead = await list(lead, c.id);
    expect(forLead.nextCursor).toBeNull();
    expect(forLead.items.map((n) => n.body)).toEqual(['padded', secret, 'Talked it through in supervision.', mine.body]);
    expect(forLead.items[1]).toEqual(leadsOnly);
    const times = forLead.items.map((n) => Date.parse(n.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const forSam = await list(sam, c.id);
    expect(forSam.items.map((n) => n.id)).toEqual([forLead.items[0]!.id, supervision.id, mine.id]);
    expect(JSON.stringify(forSam)).not.toContain(secret);
  });

  it('an intervener may not write a `leads` note (403 note.leads_only) and nothing is stored', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const text = mark('refused');
    expectProblem(await call(t, sam, 'POST', notesUrl(c.id), note(text, { visibility: 'leads' })), 403, 'note.leads_only');
    // The answer depends on the role alone: the same for a case out of their scope or none at all.
    const other = await activeCase(t, lead, p, (await t.staff('intervener', p)).id);
    expectProblem(await call(t, sam, 'POST', notesUrl(other.id), note(text, { visibility: 'leads' })), 403, 'note.leads_only');
    expectProblem(await call(t, sam, 'POST', notesUrl(randomUUID()), note(text, { visibility: 'leads' })), 403, 'note.leads_only');
    expect(await rowsOf(c.id)).toBe(0);
    expect(await findEverywhere(text)).toEqual([]);
  });

  it('a `leads` note reaches an intervener through no read they can make', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const secret = mark('for-leads');
    await ok(t, lead, 'POST', notesUrl(c.id), note(secret, { visibility: 'leads', kind: 'supervision' }));
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    for (const url of [
      notesUrl(c.id),
      `${notesUrl(c.id)}?limit=1`,
      `/v1/cases/${c.id}`,
      '/v1/cases',
      `/v1/cases/${c.id}/touchpoints`,
      '/v1/me/caseload',
      '/v1/me/notifications',
      '/v1/follow-ups',
      '/v1/safeguarding',
    ]) {
      const res = await call(t, sam, 'GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain(secret);
    }
    expect((await list(sam, c.id)).items).toEqual([]);
    // The lead does see it.
    expect(JSON.stringify(await list(lead, c.id))).toContain(secret);
  });

  it('pages newest first with a cursor; a cursor that is not one of ours, or a bad limit, is 400', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const written: string[] = [];
    for (let i = 0; i < 7; i++) {
      const who = i % 2 ? lead : sam;
      written.push((await ok<Note>(t, who, 'POST', notesUrl(c.id), note(`note ${i}`))).id);
    }
    // One `leads` note in the middle: the holder's pages skip it, and the cursor still works.
    await ok(t, lead, 'POST', notesUrl(c.id), note('between', { visibility: 'leads' }));
    written.push((await ok<Note>(t, sam, 'POST', notesUrl(c.id), note('note 7'))).id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: NotePage = await list(sam, c.id, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((n) => n.id));
      sizes.push(page.items.length);
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 2]);
    expect(seen).toEqual([...written].reverse());
    expect((await list(lead, c.id, '?limit=200')).items).toHaveLength(9);

    expectProblem(await call(t, sam, 'GET', `${notesUrl(c.id)}?cursor=nonsense`), 400, 'pagination.invalid_cursor');
    const forged = Buffer.from(JSON.stringify(['0000-01-01T00:00:00Z', randomUUID()])).toString('base64url');
    expectProblem(await call(t, sam, 'GET', `${notesUrl(c.id)}?cursor=${forged}`), 400, 'pagination.invalid_cursor');
    const idOnly = Buffer.from(JSON.stringify(randomUUID())).toString('base64url');
    expectProblem(await call(t, sam, 'GET', `${notesUrl(c.id)}?cursor=${idOnly}`), 400, 'pagination.invalid_cursor');
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?unknown=1']) {
      expectProblem(await call(t, sam, 'GET', `${notesUrl(c.id)}${q}`), 400);
    }
  });

  it('analysts and admins get 403 whatever the case; out of scope, another program or no case is 404', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      kim,
      admin,
    } = await cast(t, {
      lead: 'lead',
      analyst: 'analyst',
      sam: 'intervener',
      kim: 'intervener',
      admin: 'admin',
    });
    const other = await cast(t, { lead: 'lead', ivy: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', notesUrl(c.id), note('held by sam'));
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(p));
    for (const who of [analyst, admin]) {
      for (const id of [c.id, flagged.id, randomUUID()]) {
        expectProblem(await call(t, who, 'GET', notesUrl(id)), 403, 'auth.forbidden');
        expectProblem(await call(t, who, 'POST', notesUrl(id), note('nope')), 403, 'auth.forbidden');
      }
    }
    for (const [who, id] of [
      [kim, c.id],
      [other.lead, c.id],
      [other.ivy, c.id],
      [lead, randomUUID()],
      [sam, randomUUID()],
      // In triage: no holder yet, so no intervener's.
      [sam, flagged.id],
    ] as const) {
      expectProblem(await call(t, who, 'GET', notesUrl(id)), 404, 'case.not_found');
      expectProblem(await call(t, who, 'POST', notesUrl(id), note('nope')), 404, 'case.not_found');
    }
    expect(await rowsOf(c.id)).toBe(1);
    expectProblem(await call(t, sam, 'GET', '/v1/cases/not-a-uuid/notes'), 400);
    expectProblem(await t.app.inject({ method: 'GET', url: notesUrl(c.id) }), 401);
  });

  it('the old holder loses the notes the moment the case moves; a closed case takes notes from a lead only', async () => {
    const { programId: p, lead, sam, kim } = await cast(t, { lead: 'lead', sam: 'intervener', kim: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', notesUrl(c.id), note('before the move'));
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id });
    expectProblem(await call(t, sam, 'GET', notesUrl(c.id)), 404, 'case.not_found');
    expectProblem(await call(t, sam, 'POST', notesUrl(c.id), note('after the move')), 404, 'case.not_found');
    expect((await list(kim, c.id)).items.map((n) => n.body)).toEqual(['before the move']);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'other' });
    expectProblem(await call(t, kim, 'POST', notesUrl(c.id), note('closed')), 404, 'case.not_found');
    expect((await call(t, lead, 'POST', notesUrl(c.id), note('closing thoughts'))).statusCode).toBe(201);
  });

  it("a cover reads and writes the absent holder's case notes for the absence only, never a `leads` note", async () => {
    const { programId: p, lead, sam, kim } = await cast(t, { lead: 'lead', sam: 'intervener', kim: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const secret = mark('cover-leads');
    await ok(t, sam, 'POST', notesUrl(c.id), note('Going on leave; they reply in the evenings.', { kind: 'handover' }));
    await ok(t, lead, 'POST', notesUrl(c.id), note(secret, { visibility: 'leads' }));
    expectProblem(await call(t, kim, 'GET', notesUrl(c.id)), 404, 'case.not_found');
    const away = await ok<{ id: string }>(t, lead, 'POST', `/v1/staff/${sam.id}/absences`, {
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
      coverId: kim.id,
    });
    const covering = await list(kim, c.id);
    expect(covering.items.map((n) => n.body)).toEqual(['Going on leave; they reply in the evenings.']);
    expect(JSON.stringify(covering)).not.toContain(secret);
    expect((await call(t, kim, 'POST', notesUrl(c.id), note('Covering: wrote back once.'))).statusCode).toBe(201);
    expectProblem(await call(t, kim, 'POST', notesUrl(c.id), note('for leads', { visibility: 'leads' })), 403, 'note.leads_only');
    // The absence withdrawn: the cover's access ends with it.
    expect((await call(t, lead, 'DELETE', `/v1/absences/${away.id}`)).statusCode).toBeLessThan(300);
    expectProblem(await call(t, kim, 'GET', notesUrl(c.id)), 404, 'case.not_found');
    expectProblem(await call(t, kim, 'POST', notesUrl(c.id), note('after the absence')), 404, 'case.not_found');
    expect((await list(sam, c.id)).items.map((n) => n.authorId)).toEqual([kim.id, sam.id]);
  });

  it('refuses hostile input with 400 naming the field, and stores nothing', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const bad: [string, unknown, string][] = [
      ['too long', note('x'.repeat(NOTE_BODY_MAX + 1)), 'body'],
      ['too long after a multi-byte start', note(`é${'x'.repeat(NOTE_BODY_MAX)}`), 'body'],
      ['empty', note(''), 'body'],
      ['only whitespace', note(' \n\t '), 'body'],
      ['NUL', note('before\u0000after'), 'body'],
      ['a C0 control', note('bell\u0007'), 'body'],
      ['a C1 control', note('csi\u009b'), 'body'],
      ['a bidi override', note('abc\u202Edef'), 'body'],
      ['an unpaired surrogate', note('half \ud800 of it'), 'body'],
      ['not a string', note(42 as unknown as string), 'body'],
      ['unknown kind', note('ok', { kind: 'diary' }), 'kind'],
      ['unknown visibility', note('ok', { visibility: 'everyone' }), 'visibility'],
      ['visibility missing', { kind: 'general', body: 'ok' }, 'visibility'],
      ['kind missing', { body: 'ok', visibility: 'case' }, 'kind'],
      ['body missing', { kind: 'general', visibility: 'case' }, 'body'],
      ['author chosen by the client', note('ok', { authorId: lead.id }), ''],
      ['id chosen by the client', note('ok', { id: randomUUID() }), ''],
      ['another case', note('ok', { caseId: randomUUID() }), ''],
      ['time chosen by the client', note('ok', { createdAt: '2020-01-01T00:00:00Z' }), ''],
      ['another program', note('ok', { programId: randomUUID() }), ''],
    ];
    for (const [what, payload, path] of bad) {
      const res = await call(t, sam, 'POST', notesUrl(c.id), payload);
      const problem = expectProblem(res, 400);
      if (path) {
        const errors = (problem['errors'] ?? []) as { path: string }[];
        expect(
          errors.some((e) => e.path.endsWith(path)),
          `${what}: ${res.body}`,
        ).toBe(true);
      }
    }
    for (const raw of ['{', '[]', 'null', '"text"']) {
      const res = await t.app.inject({
        method: 'POST',
        url: notesUrl(c.id),
        headers: { ...sam.auth, 'content-type': 'application/json' },
        payload: raw,
      });
      expectProblem(res, 400);
    }
    const prototype = await t.app.inject({
      method: 'POST',
      url: notesUrl(c.id),
      headers: { ...sam.auth, 'content-type': 'application/json' },
      payload: '{"kind":"general","body":"ok","visibility":"case","__proto__":{"visibility":"leads"}}',
    });
    expectProblem(prototype, 400);
    expect(await rowsOf(c.id)).toBe(0);
    // Exactly at the limit, with tabs and line breaks, is fine.
    const longest = `a\tb\n${'y'.repeat(NOTE_BODY_MAX - 4)}`;
    expect(longest).toHaveLength(NOTE_BODY_MAX);
    expect((await call(t, sam, 'POST', notesUrl(c.id), note(longest))).statusCode).toBe(201);
    expect((await call(t, sam, 'POST', notesUrl(c.id), note('line one\n\tindented line two\r\n'))).statusCode).toBe(201);
    expect(await rowsOf(c.id)).toBe(2);
  });

  it('replays an Idempotency-Key with the first answer, refuses it with another body, and stores one note', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const key = { 'idempotency-key': `note-${randomUUID()}` };
    const first = await call(t, sam, 'POST', notesUrl(c.id), note('only once'), key);
    expect(first.statusCode).toBe(201);
    const replays = await auditCount(t, 'idempotency.replay', sam.id);
    const again = await call(t, sam, 'POST', notesUrl(c.id), note('only once'), key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await auditCount(t, 'idempotency.replay', sam.id)).toBe(replays + 1);
    expectProblem(await call(t, sam, 'POST', notesUrl(c.id), note('something else'), key), 422, 'idempotency.key_reused');
    expect(await rowsOf(c.id)).toBe(1);
    // Another token's key of the same name is its own.
    expect((await call(t, lead, 'POST', notesUrl(c.id), note('only once'), key)).statusCode).toBe(201);
    expect(await rowsOf(c.id)).toBe(2);
    // A replay once the case has left the caller's scope is a 404.
    const kim = await t.staff('intervener', p);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id });
    expectProblem(await call(t, sam, 'POST', notesUrl(c.id), note('only once'), key), 404, 'case.not_found');
  });

  it('audits every write (note.create) and every list read (note.list, one entry per page), with no text in the audit', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const text = mark('audited');
    const created = await ok<Note>(t, sam, 'POST', notesUrl(c.id), note(text));
    await ok(t, lead, 'POST', notesUrl(c.id), note(`${text} second`, { visibility: 'leads' }));
    const { rows: writes } = await t.db.pool.query(
      `select actor_id as "actorId", target_type as "targetType", target_id as "targetId", case_id as "caseId", program_id as "programId"
         from audit_log where action = 'note.create' and case_id = $1 order by seq`,
      [c.id],
    );
    expect(writes).toHaveLength(2);
    expect(writes[0]).toEqual({ actorId: sam.id, targetType: 'note', targetId: created.id, caseId: c.id, programId: p });
    expect(writes[1]).toMatchObject({ actorId: lead.id, caseId: c.id });

    const reads = () => auditCount(t, 'note.list', sam.id);
    const before = await reads();
    await list(sam, c.id);
    expect(await reads()).toBe(before + 1);
    await list(sam, c.id, '?limit=1');
    await list(sam, c.id, '?limit=1');
    expect(await reads()).toBe(before + 3);
    const { rows: read } = await t.db.pool.query(
      `select target_type as "targetType", target_id as "targetId", case_id as "caseId" from audit_log where action = 'note.list' and actor_id = $1`,
      [sam.id],
    );
    expect(read.every((r) => r.targetType === 'case' && r.targetId === c.id && r.caseId === c.id)).toBe(true);
    // Refused reads and writes leave no entry of their own.
    const kim = await t.staff('intervener', p);
    await call(t, kim, 'GET', notesUrl(c.id));
    await call(t, kim, 'POST', notesUrl(c.id), note('out of scope'));
    expect(await auditCount(t, 'note.list', kim.id)).toBe(0);
    expect(await auditCount(t, 'note.create', kim.id)).toBe(0);
    expect(await findEverywhere(text)).toEqual(['public.case_notes.body']);
  });

  it('addHandoverNote stores a `handover` note for the case, by the caller, audited', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const principal = (await authenticate(t.db.db, TEST_SECRET, lead.token))!;
    const deps = { db: t.db.db, clock: t.clock, secret: TEST_SECRET, queues: t.queues, logger: t.logger };
    const stored = await run(deps, { principal, requestId: null }, 'write', (uow) =>
      addHandoverNote(uow.tx, uow, c.id, '  They respond best in the evening.  '),
    );
    expect(stored).toMatchObject({ caseId: c.id, programId: p, kind: 'handover', visibility: 'case', authorId: lead.id });
    expect((await list(sam, c.id)).items).toEqual([
      expect.objectContaining({
        id: stored.id,
        kind: 'handover',
        body: 'They respond best in the evening.',
        visibility: 'case',
        authorId: lead.id,
      }),
    ]);
    expect(await auditCount(t, 'note.create', lead.id)).toBeGreaterThanOrEqual(1);
    const { rows } = await t.db.pool.query("select 1 from audit_log where action = 'note.create' and target_id = $1", [stored.id]);
    expect(rows).toHaveLength(1);
    // The same rules as the route: an empty or over-long note is refused, and a missing case too.
    for (const body of ['   ', 'x'.repeat(NOTE_BODY_MAX + 1)]) {
      await expect(
        run(deps, { principal, requestId: null }, 'write', (uow) => addHandoverNote(uow.tx, uow, c.id, body)),
      ).rejects.toMatchObject({
        status: 400,
        code: 'note.invalid_body',
      });
    }
    await expect(
      run(deps, { principal, requestId: null }, 'write', (uow) => addHandoverNote(uow.tx, uow, randomUUID(), 'lost')),
    ).rejects.toMatchObject({ status: 404, code: 'case.not_found' });
    expect(await rowsOf(c.id)).toBe(1);
  });
});

describe('notes, erasure and retention', () => {
  it('erasure leaves no note text anywhere in the database; notes read back with body null and take no more writes', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const texts = [mark('case-note'), mark('leads-note'), mark('keyed-note')];
    await ok(t, sam, 'POST', notesUrl(c.id), note(texts[0]!));
    await ok(t, lead, 'POST', notesUrl(c.id), note(texts[1]!, { visibility: 'leads', kind: 'supervision' }));
    // Its stored idempotent response holds the text too (sealed): erasure drops it with the rest.
    await ok(t, sam, 'POST', notesUrl(c.id), note(texts[2]!, { kind: 'handover' }), { 'idempotency-key': `erase-${randomUUID()}` });
    for (const text of texts) expect(await findEverywhere(text), text).toEqual(['public.case_notes.body']);
    const keyed = async () =>
      (await t.db.pool.query<{ n: number }>('select count(*)::int as n from idempotency_keys where case_id = $1', [c.id])).rows[0]!.n;
    expect(await keyed()).toBe(1);

    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    for (const text of texts) expect(await findEverywhere(text), text).toEqual([]);
    expect(await keyed()).toBe(0);
    const after = await list(lead, c.id);
    expect(after.items.map((n) => [n.kind, n.visibility, n.body])).toEqual([
      ['handover', 'case', null],
      ['supervision', 'leads', null],
      ['general', 'case', null],
    ]);
    expectProblem(await call(t, lead, 'POST', notesUrl(c.id), note('after erasure')), 409, 'case.erased');
    // Erased means closed: out of the intervener's scope.
    expectProblem(await call(t, sam, 'POST', notesUrl(c.id), note('after erasure')), 404, 'case.not_found');
    expectProblem(await call(t, sam, 'GET', notesUrl(c.id)), 404, 'case.not_found');
    expect(await findEverywhere('after erasure')).toEqual([]);
  });

  it('notes racing an erasure either commit before it (and are erased with it) or are refused', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    for (let round = 0; round < 3; round++) {
      const c = await activeCase(t, lead, p, sam.id);
      const tag = mark('racing');
      const writes = Array.from({ length: 10 }, (_, i) => call(t, i % 2 ? lead : sam, 'POST', notesUrl(c.id), note(`${tag} ${i}`)));
      const erase = call(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
      const results = await Promise.all([...writes, erase]);
      expect(results.at(-1)!.statusCode).toBe(200);
      for (const res of results.slice(0, -1)) {
        expect([201, 404, 409], res.body).toContain(res.statusCode);
        if (res.statusCode === 409) expect(res.json().code).toBe('case.erased');
      }
      expect(await findEverywhere(tag), 'note text that landed after the erasure').toEqual([]);
      const committed = results.slice(0, -1).filter((r) => r.statusCode === 201).length;
      expect(await rowsOf(c.id)).toBe(committed);
    }
  });

  it('retention erases the notes of a case that aged out, and leaves a live case’s notes alone', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { retentionClosed: 'P1D' });
    const done = await activeCase(t, lead, p, sam.id);
    const live = await activeCase(t, lead, p, sam.id);
    const [gone, kept] = [mark('aged-out'), mark('still-live')];
    for (const c of [done, live]) {
      await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'outbound',
        channel: 'comment',
        occurredAt: new Date().toISOString(),
      });
    }
    await ok(t, sam, 'POST', notesUrl(done.id), note(gone));
    await ok(t, lead, 'POST', notesUrl(done.id), note(`${gone} for leads`, { visibility: 'leads' }));
    await ok(t, sam, 'POST', notesUrl(live.id), note(kept));
    await ok(t, lead, 'POST', `/v1/cases/${done.id}/close`, { outcome: 'no_response' });
    expect((await findEverywhere(gone)).length).toBeGreaterThan(0);

    // Two days on, the closed case is past `retentionClosed`; the active one is not.
    const result = await applyRetention(t.db.db, new Date(Date.now() + 2 * 86_400_000));
    expect(result.erased).toBeGreaterThanOrEqual(1);
    expect(await findEverywhere(gone)).toEqual([]);
    expect(await findEverywhere(kept)).toEqual(['public.case_notes.body']);
    expect((await list(lead, done.id)).items.map((n) => n.body)).toEqual([null, null]);
    expect((await list(sam, live.id)).items.map((n) => n.body)).toEqual([kept]);
  });
});

describe('notes and the logs', () => {
  it('no note text reaches a log line, whatever the outcome of the request', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const m = mark('logged');
    logLines.length = 0;
    await ok(t, sam, 'POST', notesUrl(c.id), note(`${m} written`), { 'idempotency-key': `log-${m}` });
    await ok(t, sam, 'POST', notesUrl(c.id), note(`${m} written`), { 'idempotency-key': `log-${m}` });
    await call(t, sam, 'POST', notesUrl(c.id), note(`${m} other`), { 'idempotency-key': `log-${m}` });
    await ok(t, lead, 'POST', notesUrl(c.id), note(`${m} leads`, { visibility: 'leads' }));
    await call(t, sam, 'POST', notesUrl(c.id), note(`${m} refused`, { visibility: 'leads' }));
    await call(t, sam, 'POST', notesUrl(c.id), note(`${m}${'x'.repeat(NOTE_BODY_MAX)}`));
    await call(t, sam, 'POST', notesUrl(c.id), note(`${m}\u0000`));
    await call(t, sam, 'POST', notesUrl(c.id), note(m, { kind: m }));
    await call(t, sam, 'POST', notesUrl(randomUUID()), note(`${m} missing`));
    await t.app.inject({
      method: 'POST',
      url: notesUrl(c.id),
      headers: { ...sam.auth, 'content-type': 'application/json' },
      payload: `{"kind":"general","body":"${m} broken`,
    });
    await call(t, sam, 'GET', `${notesUrl(c.id)}?cursor=${m}`);
    await list(lead, c.id);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    await call(t, lead, 'POST', notesUrl(c.id), note(`${m} erased`));
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('')).not.toContain(m);
  });
});

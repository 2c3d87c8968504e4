import { spawnSync } from 'node:child_process';
import { desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, cases } from '../src/db/schema/index.js';
import { hotQuery } from '../src/db/prepared.js';
import { uuidv7 } from '../src/db/ids.js';
import { type AuditEntry, appendAudit, canonicalEntry } from '../src/domain/audit/log.js';
import { verifyAudit } from '../src/domain/audit/query.js';
import { applyRetention } from '../src/domain/retention/policy.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
let admin: Who;

beforeAll(async () => {
  t = await createTestApp();
  admin = await t.staff('admin', null);
});
afterAll(() => t.close());

const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

/** Every row of every table, every text-like column, searched for `needle`. */
async function findEverywhere(needle: string): Promise<string[]> {
  const { rows: columns } = await t.db.pool.query<{ table_schema: string; table_name: string; column_name: string }>(
    `select c.table_schema, c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
      where c.table_schema not in ('pg_catalog', 'information_schema')
        and (c.data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea') or c.udt_name in ('text', 'varchar', 'jsonb'))`,
  );
  const hits: string[] = [];
  for (const c of columns) {
    const q = `select count(*)::int as n from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text ilike $1`;
    const { rows } = await t.db.pool.query<{ n: number }>(q, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
  }
  return hits;
}

describe('audit log', () => {
  const logged = async () => (await t.db.pool.query<{ n: number }>('select count(*)::int as n from audit_log')).rows[0]!.n;

  it('appends one chained entry per read and write of case data, filterable, with no identity in it', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const before = (await t.db.db.select().from(auditLog).where(eq(auditLog.caseId, c.id))).length;
    await ok(t, sam, 'GET', `/v1/cases/${c.id}`);
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
      summary: 'secret-summary-text',
    });
    const entries = await t.db.db.select().from(auditLog).where(eq(auditLog.caseId, c.id));
    expect(entries.length).toBe(before + 2);
    expect(entries.map((e) => e.action).slice(-2)).toEqual(['case.read', 'touchpoint.create']);

    const list = await ok<{
      items: { action: string; actorId: string; caseId: string; hash: string; prevHash: string }[];
      nextCursor: string | null;
    }>(t, admin, 'GET', `/v1/audit?caseId=${c.id}&limit=3`);
    expect(list.items).toHaveLength(3);
    expect(list.items.every((i) => i.caseId === c.id)).toBe(true);
    const next = await ok<{ items: unknown[] }>(t, admin, 'GET', `/v1/audit?caseId=${c.id}&cursor=${list.nextCursor}`);
    expect(list.items.length + next.items.length).toBe(entries.length);
    const mine = await ok<{ items: { actorId: string }[] }>(t, admin, 'GET', `/v1/audit?actorId=${sam.id}`);
    expect(mine.items.length).toBeGreaterThanOrEqual(2);
    expect(mine.items.every((i) => i.actorId === sam.id)).toBe(true);
    expect(JSON.stringify(await t.db.db.select().from(auditLog))).not.toContain('secret-summary-text');
    expectProblem(await call(t, lead, 'GET', '/v1/audit'), 403);
  });

  it('group-commits concurrent reads: one durable entry per read, one valid chain', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const reads = await Promise.all(Array.from({ length: 40 }, () => call(t, sam, 'GET', `/v1/cases/${c.id}`)));
    expect(reads.every((r) => r.statusCode === 200)).toBe(true);
    const entries = await t.db.db.select().from(auditLog).where(eq(auditLog.caseId, c.id));
    expect(entries.filter((e) => e.action === 'case.read')).toHaveLength(40);
    // Fewer distinct commit times than reads: they shared transactions.
    expect(new Set(entries.filter((e) => e.action === 'case.read').map((e) => e.at.getTime())).size).toBeLessThan(40);
    expect(await verifyAudit(t.db.db)).toMatchObject({ ok: true });
  });

  it('stays one valid chain under concurrent writers', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    await Promise.all(Array.from({ length: 12 }, () => call(t, lead, 'POST', '/v1/cases', flagBody(p))));
    const v = await ok<{ ok: boolean; checked: number; firstBrokenId: string | null }>(t, admin, 'GET', '/v1/audit/verify');
    expect(v).toMatchObject({ ok: true, firstBrokenId: null });
    expect(v.checked).toBeGreaterThan(12);
  });

  it('chains entries at commit: a rollback leaves none, and an open write does not hold up other writers', async () => {
    const before = await logged();
    const event = { actorId: null, action: 'test.append', targetType: 'case', targetId: null };
    // Rolled back: nothing in the log, nothing left waiting.
    await expect(
      t.db.db.transaction(async (tx) => {
        await appendAudit(tx, [event, event]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await logged()).toBe(before);

    // A transaction that appended and has not committed yet (a slow request) ...
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let appended!: () => void;
    const slowAppended = new Promise<void>((r) => {
      appended = r;
    });
    const slow = t.db.db.transaction(async (tx) => {
      await appendAudit(tx, [{ ...event, action: 'test.slow' }]);
      const inTx = await tx.execute(
        sql`select (select count(*) from audit_log)::int as logged, (select count(*) from audit_pending)::int as pending`,
      );
      expect(inTx.rows[0]).toEqual({ logged: before, pending: 1 });
      appended();
      await held;
    });
    await slowAppended;
    // ... does not stop others from appending and committing meanwhile.
    await Promise.all(Array.from({ length: 8 }, () => t.db.db.transaction((tx) => appendAudit(tx, [event, event]))));
    expect(await logged()).toBe(before + 16);
    release();
    await slow;

    expect(await logged()).toBe(before + 17);
    const pending = await t.db.pool.query('select count(*)::int as n from audit_pending');
    expect(pending.rows[0].n).toBe(0);
    const last = await t.db.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    expect(last[0]!.action).toBe('test.slow');
    expect(await verifyAudit(t.db.db)).toMatchObject({ ok: true, firstBrokenId: null });
  });

  it('a case id sent in capitals is audited as the same case, and the chain still verifies', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, p, sam.id);
    const upper = c.id.toUpperCase();
    await ok(t, sam, 'GET', `/v1/cases/${upper}`);
    await ok(t, sam, 'POST', `/v1/cases/${upper}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    await ok(t, sam, 'GET', `/v1/cases/${upper}/touchpoints`);
    const entries = await t.db.db.select().from(auditLog).where(eq(auditLog.caseId, c.id));
    expect(entries.map((e) => e.action).slice(-3)).toEqual(['case.read', 'touchpoint.create', 'touchpoint.list']);
    expect(await verifyAudit(t.db.db)).toMatchObject({ ok: true, firstBrokenId: null });
  });

  it("the previous release's append (overture_audit_append) still chains correctly beside the new one", async () => {
    const event = { actorId: null, action: 'test.mixed', targetType: 'case', targetId: null };
    await t.db.db.transaction((tx) => appendAudit(tx, [event]));
    const old: AuditEntry = {
      id: uuidv7(),
      at: new Date(),
      actorId: null,
      action: 'test.old_release',
      targetType: 'case',
      targetId: null,
      programId: null,
      caseId: null,
      requestId: null,
    };
    await t.db.pool.query('select overture_audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      old.id,
      old.at,
      old.actorId,
      old.action,
      old.targetType,
      old.targetId,
      old.programId,
      old.caseId,
      old.requestId,
      canonicalEntry(old),
    ]);
    await t.db.db.transaction((tx) => appendAudit(tx, [event]));
    const last = await t.db.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(3);
    expect(last.map((e) => e.action)).toEqual(['test.mixed', 'test.old_release', 'test.mixed']);
    expect(await verifyAudit(t.db.db)).toMatchObject({ ok: true, firstBrokenId: null });
  });

  it('hotQuery refuses a handle without a node-postgres client instead of misbehaving', async () => {
    await expect(hotQuery({} as never, null, 'select 1', [])).rejects.toThrow(/drizzle-orm internals/);
  });

  it("reports the first broken entry after an edit behind the application's back", async () => {
    const entries = await t.db.db.select().from(auditLog).orderBy(auditLog.seq);
    const victim = entries[Math.floor(entries.length / 2)]!;
    const client = await t.db.pool.connect();
    try {
      // Only a superuser can do this: the trigger refuses every UPDATE to the application.
      await expect(client.query('update audit_log set action = $1 where id = $2', ['case.nothing', victim.id])).rejects.toThrow(
        /append-only/,
      );
      await client.query('begin');
      await client.query('alter table audit_log disable trigger audit_log_no_update_delete');
      await client.query('update audit_log set action = $1 where id = $2', ['case.nothing', victim.id]);
      await client.query('alter table audit_log enable trigger audit_log_no_update_delete');
      await client.query('commit');
    } finally {
      client.release();
    }
    expect(await verifyAudit(t.db.db)).toMatchObject({ ok: false, firstBrokenId: victim.id });
    expect(await ok(t, admin, 'GET', '/v1/audit/verify')).toMatchObject({ ok: false, firstBrokenId: victim.id });
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', 'verify'], {
      env: { ...process.env, DATABASE_URL: t.db.url, OVERTURE_SECRET: TEST_SECRET },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(3);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, firstBrokenId: victim.id });
  });
});

describe('erasure and retention', () => {
  it('erasure on request removes identity from every table, suppresses the profile, and keeps the counts', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { minCellSize: 1 });
    const handle = `erase_${Date.now().toString(36)}`;
    const body = flagBody(p, {
      profile: {
        platform: 'reddit',
        handle: `@${handle}`,
        url: `https://reddit.example/u/${handle}`,
        displayName: 'Distinct Display Name',
        language: 'en',
      },
      indicators: [{ kind: 'post', evidenceUrl: `https://reddit.example/r/x/${handle}-post`, note: 'indicator-note-text' }],
    });
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', body, { 'idempotency-key': `erase-${handle}` });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'reason-mentions-the-person' });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/approve`, {});
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
      summary: 'touchpoint-summary-text',
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, {
      severity: 'high',
      concern: 'concern-free-text',
      actionTaken: 'action-free-text',
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, {
      dueAt: new Date(Date.now() + 3_600_000).toISOString(),
      kind: 'check_in',
      note: 'follow-up-note-text',
    });
    const template = await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${p}/assessment-templates`, {
      name: 'Review',
      factors: [{ key: 'isolation', label: 'Isolation' }],
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/assessments`, {
      templateId: template.id,
      phase: 'baseline',
      scores: { isolation: 2 },
      note: 'assessment-note-text',
    });
    const report = `/v1/reports/engagement?programId=${p}&from=2020-01-01&to=${tomorrow()}`;
    const before = await ok<{ rows: unknown[] }>(t, lead, 'GET', report);
    for (const needle of [
      handle,
      'Distinct Display Name',
      'indicator-note-text',
      'touchpoint-summary-text',
      'concern-free-text',
      'follow-up-note-text',
      'assessment-note-text',
    ]) {
      expect((await findEverywhere(needle)).length).toBeGreaterThan(0);
    }

    const storedResponses = async () =>
      (await t.db.pool.query<{ n: number }>('select count(*)::int as n from idempotency_keys where case_id = $1', [c.id])).rows[0]!.n;
    // The stored (encrypted) response of the flagging request is tied to the case ...
    expect(await storedResponses()).toBe(1);
    const erased = await ok<Record<string, unknown>>(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    expect(erased).toMatchObject({
      erased: true,
      status: 'closed',
      profile: { platform: 'reddit', handle: null, url: null, displayName: null, language: null },
    });
    expect(erased['indicators']).toEqual([{ kind: 'post', evidenceUrl: null, note: null }]);
    for (const needle of [
      handle,
      'Distinct Display Name',
      'indicator-note-text',
      'touchpoint-summary-text',
      'concern-free-text',
      'action-free-text',
      'follow-up-note-text',
      'assessment-note-text',
      'reason-mentions-the-person',
    ]) {
      expect(await findEverywhere(needle), needle).toEqual([]);
    }
    expectProblem(
      await call(t, lead, 'POST', '/v1/cases', { ...body, profile: { ...body.profile, handle: handle.toUpperCase() } }),
      422,
      'profile.suppressed',
    );
    // ... and goes with it.
    expect(await storedResponses()).toBe(0);
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'again' }), 409, 'case.erased');
    const after = await ok<{ rows: unknown[] }>(t, lead, 'GET', report);
    expect(after.rows).toEqual(before.rows);
  });

  it('retention erases what has aged out, keeps report totals, and is safe to run twice at once', async () => {
    const {
      programId: p,
      lead,
      sam,
    } = await cast(t, { lead: 'lead', sam: 'intervener' }, { minCellSize: 1, retentionNeverContacted: 'PT1S', retentionClosed: 'PT1S' });
    const flaggedOnly = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(p));
    const working = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${working.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    const done = await activeCase(t, lead, p, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${done.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    await ok(t, lead, 'POST', `/v1/cases/${done.id}/close`, { outcome: 'other' });
    const report = `/v1/reports/engagement?programId=${p}&from=2020-01-01&to=${tomorrow()}&groupBy=platform`;
    const before = await ok<{ rows: unknown[] }>(t, lead, 'GET', report);
    await new Promise((r) => setTimeout(r, 1_100));
    const [a, b] = await Promise.all([applyRetention(t.db.db, new Date()), applyRetention(t.db.db, new Date())]);
    expect(a.erased + b.erased).toBe(2);
    expect((await applyRetention(t.db.db, new Date())).erased).toBe(0);
    const state = async (id: string) => (await t.db.db.select().from(cases).where(eq(cases.id, id)))[0]!;
    expect((await state(flaggedOnly.id)).erasedAt).toBeInstanceOf(Date);
    expect((await state(done.id)).erasedAt).toBeInstanceOf(Date);
    expect((await state(working.id)).erasedAt).toBeNull();
    expect(await ok<{ rows: unknown[] }>(t, lead, 'GET', report)).toMatchObject({ rows: before.rows });
  });
});

import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { DrizzleQueryError, eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { safeLogLine } from '../src/db/embedded.js';
import { followUps } from '../src/db/schema/index.js';
import { createLogger, redactedMessage, redactText, redactUrl, serializeError } from '../src/logger.js';
import { jobIds } from '../src/queue/jobs.js';
import { failureRecord } from '../workers/index.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';
import { backends, workersFor } from './helpers/workers.js';

/** A value no code path would write by itself: lowercase, so it is also a valid `x` handle. */
const mark = (tag: string) => `mk${tag}${randomBytes(3).toString('hex')}`;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function collector() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (l: string) => void lines.push(l) } });
  return { lines, logger, text: () => lines.join('') };
}

/** The error as any logger without our serializer would see it: proof that the marker was there. */
const raw = (err: unknown) => inspect(err, { depth: 8 });

describe('the err serializer', () => {
  let d: TestDatabase;
  beforeAll(async () => {
    d = await createTestDatabase();
    await d.db.execute(sql`create table redaction_probe (v varchar(3), u text unique, n text not null, c text check (c <> 'refused'))`);
  });
  afterAll(() => d.close());

  /** A real error from PostgreSQL, through drizzle, for a statement carrying `marker`. */
  async function failing(statement: ReturnType<typeof sql>): Promise<unknown> {
    try {
      await d.db.execute(statement);
    } catch (err) {
      return err;
    }
    throw new Error('the statement did not fail');
  }

  it("a DrizzleQueryError: its type and the cause's message; no query, params, detail, where, hint or internalQuery", async () => {
    const m = mark('d');
    const cause = new pg.DatabaseError(`invalid input syntax for type uuid: "${m}"`, 100, 'error');
    Object.assign(cause, {
      severity: 'ERROR',
      code: '22P02',
      routine: 'string_to_uuid',
      detail: m,
      hint: m,
      where: m,
      internalQuery: m,
      position: '8',
    });
    const err = new DrizzleQueryError(`select '${m}'::uuid, $1`, [m], cause);
    expect(err.message).toContain(m);
    const safe = serializeError(err);
    expect(JSON.stringify(safe)).not.toContain(m);
    expect(safe).toMatchObject({
      message: 'query failed: invalid input syntax for type uuid: "…"',
      cause: { type: 'DatabaseError', code: '22P02', severity: 'ERROR', routine: 'string_to_uuid' },
    });
    for (const k of ['params', 'query', 'detail', 'where', 'hint', 'internalQuery']) {
      expect(safe).not.toHaveProperty(k);
      expect(safe.cause).not.toHaveProperty(k);
    }
  });

  it('real PostgreSQL refusals: no quoted value, byte, detail or statement survives; names the error reports do', async () => {
    const m = mark('p');
    const cases: { statement: ReturnType<typeof sql>; message: RegExp; fields?: Record<string, string>; carriesMarker?: false }[] = [
      { statement: sql`select ${m}::uuid`, message: /^query failed: invalid input syntax for type uuid: "…"$/ },
      { statement: sql`select ${`P${m}`}::interval`, message: /^query failed: invalid input syntax for type interval: "…"$/ },
      { statement: sql`select ${m}::int`, message: /^query failed: invalid input syntax for type integer: "…"$/ },
      { statement: sql`select ${m}::jsonb`, message: /^query failed: invalid input syntax for type json$/ },
      {
        statement: sql`select convert_from(${Buffer.from([0x6d, 0xff, 0xfe])}::bytea, 'UTF8')`,
        message: /^query failed: invalid byte sequence for encoding "…": 0x…$/,
        carriesMarker: false,
      },
      {
        statement: sql`insert into redaction_probe (v, n) values (${m}, 'x')`,
        message: /^query failed: value too long for type character varying\(3\)$/,
      },
      {
        statement: sql`insert into redaction_probe (u, n) values (${m}, 'x'), (${m}, 'y')`,
        message: /^query failed: duplicate key value violates unique constraint "redaction_probe_u_key"$/,
        fields: { constraint: 'redaction_probe_u_key', table: 'redaction_probe' },
      },
      {
        statement: sql`insert into redaction_probe (u) values (${m})`,
        message: /^query failed: null value in column "n" of relation "redaction_probe" violates not-null constraint$/,
        fields: { column: 'n', table: 'redaction_probe' },
      },
      {
        statement: sql`insert into redaction_probe (u, n, c) values (${m}, ${m}, 'refused')`,
        message: /^query failed: new row for relation "redaction_probe" violates check constraint "redaction_probe_c_check"$/,
        fields: { constraint: 'redaction_probe_c_check' },
      },
      // The value sits in the SQL text PL/pgSQL runs: in `where` and `internalQuery`.
      {
        statement: sql.raw(`do $$ begin execute format('select %L::int', '${m}'); end $$`),
        message: /^query failed: invalid input syntax for type integer: "…"$/,
      },
    ];
    for (const c of cases) {
      const err = await failing(c.statement);
      if (c.carriesMarker !== false) expect(raw(err)).toContain(m);
      const safe = serializeError(err);
      expect(JSON.stringify(safe)).not.toContain(m);
      expect(JSON.stringify(safe)).not.toContain('0xff');
      expect(safe.type).toBe('DrizzleQueryError');
      expect(safe.message).toMatch(c.message);
      expect(safe.cause).toMatchObject({ type: 'DatabaseError', severity: 'ERROR', ...c.fields });
      expect(redactedMessage(err)).toBe(safe.message);
    }
  });

  it('the rule on messages: quoted spans, byte sequences and URLs go; a word with an apostrophe stays', () => {
    expect(redactText('invalid input syntax for type uuid: "a"b"c"')).toBe('invalid input syntax for type uuid: "…"');
    expect(redactText('value "x" is out of range for type integer')).toBe('value "…" is out of range for type integer');
    expect(redactText('unterminated "abc')).toBe('unterminated "…');
    expect(redactText("Cannot read properties of undefined (reading 'secret')")).toBe("Cannot read properties of undefined (reading '…')");
    expect(redactText("Response doesn't match the schema")).toBe("Response doesn't match the schema");
    expect(redactText('fetch https://user:pw@host.example/x?y=1 failed')).toBe('fetch [url] failed');
    expect(redactText('first line\nsecond line with a value')).toBe('first line');
    expect(redactText('column "n" of relation "t" and "v"', ['n', 't'])).toBe('column "n" of relation "t" and "…"');
    expect(redactText('x'.repeat(2000)).length).toBeLessThanOrEqual(500);
  });

  it("the embedded PostgreSQL's output: statements, parameters and details dropped, an error's values taken out", () => {
    const m = mark('e');
    expect(safeLogLine(`2026-01-01 00:00:00 UTC [42] ERROR:  invalid input syntax for type uuid: "${m}"`)).toBe(
      '2026-01-01 00:00:00 UTC [42] ERROR:  invalid input syntax for type uuid: "…"',
    );
    for (const line of [
      `STATEMENT:  insert into profiles values ('${m}')`,
      `DETAIL:  Key (handle)=(${m}) already exists.`,
      `LOG:  execute <unnamed>: select '${m}'`,
      `DETAIL:  parameters: $1 = '${m}'`,
      `LOG:  statement: select '${m}'`,
      `CONTEXT:  SQL statement "select '${m}'"`,
    ]) {
      expect(safeLogLine(line)).toBeUndefined();
    }
    expect(safeLogLine('FATAL:  could not create lock file "/tmp/.s.PGSQL.5432.lock": Permission denied')).toBe(
      'FATAL:  could not create lock file "/tmp/.s.PGSQL.5432.lock": Permission denied',
    );
  });

  it("Node's system errors keep syscall and code, not the host or address", () => {
    const m = mark('s');
    const sys = Object.assign(new Error(`getaddrinfo ENOTFOUND ${m}.example`), {
      code: 'ENOTFOUND',
      syscall: 'getaddrinfo',
      hostname: `${m}.example`,
    });
    const safe = serializeError(new TypeError('fetch failed', { cause: sys }));
    expect(JSON.stringify(safe)).not.toContain(m);
    expect(safe.cause).toMatchObject({ message: 'getaddrinfo ENOTFOUND', code: 'ENOTFOUND', syscall: 'getaddrinfo' });
  });

  it('a stack keeps its frames under the redacted message; cause chains are bounded; thrown non-errors say only their type', () => {
    const m = mark('k');
    const safe = serializeError(new Error(`refused "${m}"`));
    expect(safe.stack).toMatch(/^Error: refused "…"\n {4}at /);
    expect(safe.stack).not.toContain(m);
    const loop = new Error('loop') as Error & { cause?: unknown };
    loop.cause = loop;
    let depth = 0;
    for (let c = serializeError(loop).cause; c; c = c.cause) depth++;
    expect(depth).toBe(5);
    const drizzleLoop = new DrizzleQueryError('select 1', [], new Error('x'));
    drizzleLoop.cause = drizzleLoop;
    expect(redactedMessage(drizzleLoop)).toMatch(/^(query failed: )+query failed$/);
    expect(serializeError(`a thrown ${m}`)).toEqual({ type: 'string', message: '[thrown string]' });
  });

  it('log lines: no raw message as msg, whatever the call shape; headers and cookies redacted', async () => {
    const m = mark('l');
    const err = await failing(sql`select ${m}::uuid`);
    const { logger, text, lines } = collector();
    logger.error(err);
    logger.warn({ err });
    logger.error({ err }, (err as Error).message);
    logger.info({ err: { message: `"${m}"` } });
    logger.info({ headers: { authorization: `Bearer ${m}`, cookie: `ovt_board=${m}`, 'set-cookie': [`ovt_board=${m}`] } });
    logger.info({ req: { method: 'GET', url: `/x?handle=${m}`, headers: { authorization: m, cookie: m } } });
    expect(lines).toHaveLength(6);
    expect(text()).not.toContain(m);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'query failed: invalid input syntax for type uuid: "…"',
      err: { type: 'DrizzleQueryError' },
    });
    expect(JSON.parse(lines[4]!)).toMatchObject({
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'set-cookie': '[redacted]' },
    });
    expect(JSON.parse(lines[5]!)).toEqual(expect.objectContaining({ req: { method: 'GET', url: '/x?[redacted]' } }));
  });

  it('what BullMQ gets of a failure: the redacted message, a stack without values; its own control errors untouched', async () => {
    const m = mark('b');
    const err = await failing(sql`select ${m}::uuid`);
    const record = failureRecord(err);
    expect(record.message).toBe('query failed: invalid input syntax for type uuid: "…"');
    expect(record.stack).toMatch(/^DrizzleQueryError: query failed: invalid input syntax for type uuid: "…"\n {4}at /);
    expect(`${record.message}${record.stack}`).not.toContain(m);
    expect(failureRecord(new UnrecoverableError(`gone "${m}"`))).toBeInstanceOf(UnrecoverableError);
    expect(failureRecord(new UnrecoverableError(`gone "${m}"`)).message).toBe('gone "…"');
    const delayed = new DelayedError();
    expect(failureRecord(delayed)).toBe(delayed);
    expect(redactUrl('/v1/cases?cursor=abc')).toBe('/v1/cases?[redacted]');
  });
});

describe('request logs and request ids', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let admin: Who;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ logLines });
    ({ programId, lead, admin } = await cast(t, { lead: 'lead', admin: 'admin' }));
  });
  afterAll(() => t.close());

  it('no query string, authorization header or cookie in a request log line', async () => {
    const [q1, q2, token, cookie] = [mark('q'), mark('r'), mark('t'), mark('c')];
    logLines.length = 0;
    const res = await t.app.inject({
      url: `/v1/cases?cursor=${q1}&${q2}=1`,
      headers: { authorization: `Bearer ovt_${token}${'x'.repeat(32)}`, cookie: `ovt_board=${cookie}` },
    });
    expect(res.statusCode).toBe(401);
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['msg'] === 'incoming request')).toMatchObject({ req: { method: 'GET', url: '/v1/cases?[redacted]' } });
    for (const m of [q1, q2, token, cookie]) expect(logLines.join('')).not.toContain(m);
  });

  it("a client's X-Request-Id is bound into the request's log lines and echoed; the audit records the server's id", async () => {
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId));
    const clientId = `client-${mark('i')}`;
    logLines.length = 0;
    const res = await call(t, lead, 'GET', `/v1/cases/${c.id}`, undefined, { 'x-request-id': clientId });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe(clientId);
    const lines = logLines.map((l) => JSON.parse(l) as { reqId?: string; clientRequestId?: string; msg: string });
    const requestLines = lines.filter((l) => l.reqId);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const l of requestLines) expect(l).toMatchObject({ clientRequestId: clientId, reqId: expect.stringMatching(UUID_V7) });
    const serverId = requestLines[0]!.reqId!;

    const audit = await ok<{ items: { requestId: string | null; caseId: string | null; actorId: string | null }[] }>(
      t,
      admin,
      'GET',
      `/v1/audit?caseId=${c.id}`,
    );
    const ids = audit.items.map((e) => e.requestId);
    expect(ids).not.toContain(clientId);
    expect(ids).toContain(serverId);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    // A client id that would pass as a UUID is no more trusted than any other.
    const lookalike = '01900000-0000-7000-8000-000000000000';
    await call(t, lead, 'GET', `/v1/cases/${c.id}`, undefined, { 'x-request-id': lookalike });
    const again = await ok<{ items: { requestId: string | null }[] }>(t, admin, 'GET', `/v1/audit?caseId=${c.id}`);
    expect(again.items.map((e) => e.requestId)).not.toContain(lookalike);
  });
});

/** Rows of every table in a schema, as text (the PostgreSQL queue backend's whole state). */
async function schemaDump(client: pg.Client, schema: string): Promise<string> {
  const { rows } = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [
    schema,
  ]);
  const out: string[] = [];
  for (const r of rows) {
    const data = await client.query(
      `select row_to_json(x)::text as j from ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(r.table_name)} x`,
    );
    out.push(...data.rows.map((d: { j: string }) => d.j));
  }
  return out.join('\n');
}

/** Every key under a Redis prefix, whatever its type, as text. */
async function redisDump(redisUrl: string, prefix: string): Promise<string> {
  const redis = new Redis(redisUrl);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : await redis.get(key);
        out.push(`${key} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
    return out.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('database errors with request values in them', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let sam: Who;
  /** Holds the locks; `watcher` looks on and cuts the connections. */
  let admin: pg.Client;
  let watcher: pg.Client;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ logLines });
    ({ programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }));
    admin = new pg.Client(t.db.url);
    watcher = new pg.Client(t.db.url);
    await Promise.all([admin.connect(), watcher.connect()]);
  });
  // A failed test must not leave its locks behind for the next one.
  afterEach(() => admin.query('rollback'));
  afterAll(async () => {
    await Promise.all([admin.end(), watcher.end()]);
    await t.close();
  });

  /** The app's own connections waiting on a lock, with what they are running (seen from outside the locking transaction, whose statistics snapshot would not move). */
  async function blocked(): Promise<{ pid: number; query: string }[]> {
    const { rows } = await watcher.query<{ pid: number; query: string }>(
      `select pid, query from pg_stat_activity
        where datname = current_database() and application_name = 'overture' and wait_event_type = 'Lock'`,
    );
    return rows;
  }

  /** Cuts every connection of the app's pool (the queue backend's are left alone). */
  async function terminateAppConnections() {
    await watcher.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name = 'overture'`,
    );
  }

  it('connections terminated (or statements cancelled) mid-write: 503 problems, and no handle, note, URL or summary in any log line', async () => {
    const m = mark('w');
    const handles = [0, 1, 2, 3].map((i) => `${m}${i}`);
    // Two flags wait on the per-profile advisory lock (the handle is its parameter), two on the
    // cases insert (the indicators, with their notes and URLs, are its parameters).
    await admin.query('begin');
    for (const h of handles.slice(0, 2))
      await admin.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`${programId}/x/${h}`]);
    await admin.query('lock table cases in exclusive mode');
    const flags = handles.map((h) =>
      call(t, lead, 'POST', '/v1/cases', {
        ...flagBody(programId),
        profile: { platform: 'x', handle: h, language: 'en', displayName: `Name ${m}` },
        indicators: [{ kind: 'shares_propaganda', evidenceUrl: `https://example.org/${m}/post`, note: `note ${m}` }],
      }),
    );
    const waiting = async () => {
      const qs = (await blocked()).map((b) => b.query);
      return {
        advisory: qs.filter((q) => q.includes('pg_advisory_xact_lock')).length,
        insert: qs.filter((q) => /^insert into "cases"/i.test(q)).length,
      };
    };
    await expect.poll(waiting, { timeout: 15_000 }).toEqual({ advisory: 2, insert: 2 });
    await terminateAppConnections();
    await admin.query('commit');
    for (const res of await Promise.all(flags)) {
      expectProblem(res, 503, 'service.unavailable');
      expect(res.body).not.toContain(m);
    }

    // Touchpoints: the insert, whose parameters hold the summary, is where they wait.
    const held = await Promise.all([0, 1].map(() => activeCase(t, lead, programId, sam.id)));
    await admin.query('begin');
    await admin.query('lock table touchpoints in exclusive mode');
    const logs = held.map((c) =>
      call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'direct_message',
        occurredAt: new Date().toISOString(),
        summary: `said ${m}`,
      }),
    );
    // (The insert statement starts with the update that marks earlier inbound messages answered.)
    const inserting = async () => (await blocked()).filter((b) => /\binsert into "?touchpoints"?/i.test(b.query)).length;
    await expect.poll(inserting, { timeout: 15_000 }).toBe(2);
    await terminateAppConnections();
    await admin.query('commit');
    for (const res of await Promise.all(logs)) {
      expectProblem(res, 503, 'service.unavailable');
      expect(res.body).not.toContain(m);
    }

    // Cut, the transaction's rollback fails too and is what reaches the handler; cancelled, the
    // connection lives, and the error that reaches the log is the insert's, parameters and all.
    await admin.query('begin');
    await admin.query('lock table cases in exclusive mode');
    const cancelled = [4, 5].map((i) =>
      call(t, lead, 'POST', '/v1/cases', {
        ...flagBody(programId),
        profile: { platform: 'x', handle: `${m}${i}`, language: 'en' },
        indicators: [{ kind: 'shares_propaganda', evidenceUrl: `https://example.org/${m}/post`, note: `note ${m}` }],
      }),
    );
    await expect.poll(async () => (await waiting()).insert, { timeout: 15_000 }).toBe(2);
    await watcher.query(
      `select pg_cancel_backend(pid) from pg_stat_activity where application_name = 'overture' and wait_event_type = 'Lock'`,
    );
    await admin.query('commit');
    for (const res of await Promise.all(cancelled)) {
      expectProblem(res, 503, 'service.unavailable');
      expect(res.body).not.toContain(m);
    }

    const lines = logLines.map((l) => JSON.parse(l) as { msg: string; err?: { type: string; cause?: { code?: string } } });
    expect(
      lines.filter((l) => l.msg === 'database unavailable' && l.err?.type === 'DrizzleQueryError' && l.err.cause?.code === '57014'),
    ).toHaveLength(2);
    expect(logLines.join('')).not.toContain(m);
  });

  it('values the database refuses (cast, raise, EXECUTE, check constraint): 500 problems, no value in any log line', async () => {
    // Stands in for any value PostgreSQL may refuse: the refusal quotes it in the message, the
    // detail, the hint, the context and the internal query.
    await admin.query(`
      create function refuse_summary() returns trigger language plpgsql as $$
      begin
        if new.summary like 'cast %' then perform substr(new.summary, 6)::uuid; end if;
        if new.summary like 'raise %' then
          raise exception 'refused "%"', new.summary using detail = new.summary, hint = new.summary, errcode = '22023';
        end if;
        if new.summary like 'exec %' then execute format('select %L::int', new.summary); end if;
        return new;
      end $$;
      create trigger refuse_summary before insert on touchpoints for each row execute function refuse_summary();
      alter table touchpoints add constraint refuse_summary_check check (summary not like 'check %');`);
    try {
      const c = await activeCase(t, lead, programId, sam.id);
      logLines.length = 0;
      for (const kind of ['cast', 'raise', 'exec', 'check']) {
        const m = mark(kind[0]!);
        const res = await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
          direction: 'inbound',
          channel: 'direct_message',
          occurredAt: new Date().toISOString(),
          summary: `${kind} ${m}`,
        });
        expectProblem(res, 500, 'internal');
        expect(res.body).not.toContain(m);
        const line = logLines
          .map((l) => JSON.parse(l) as { msg: string; err?: { type: string; cause?: { code?: string } } })
          .find((l) => l.msg === 'unhandled error');
        // The insert is a prepared statement on the pool: the driver's error itself, not drizzle's.
        expect(line?.err).toMatchObject({ type: 'DatabaseError', code: expect.stringMatching(/^(22P02|22023|23514)$/) });
        expect(logLines.join('')).not.toContain(m);
        logLines.length = 0;
      }
    } finally {
      await admin.query(
        'drop trigger refuse_summary on touchpoints; drop function refuse_summary(); alter table touchpoints drop constraint refuse_summary_check',
      );
    }
  });
});

describe.each(backends)('a failing job on $backend', ({ backend, redisUrl }) => {
  let t: TestApp;
  let admin: pg.Client;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ redisUrl, logLines });
    admin = new pg.Client(t.db.url);
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await t.close();
  });

  it('keeps no stored value in its failedReason, stacktrace, job hash or rows, nor in the log', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, { followUpAfter: 'PT1S' });
    const m = mark('j');
    // The follow-up's notification is refused with the case's stored summary quoted (message,
    // context and internal query), as PostgreSQL would refuse a stored value it cannot take.
    await admin.query(`
      create function refuse_notification() returns trigger language plpgsql as $$
      declare s text;
      begin
        select summary into s from touchpoints where case_id = new.case_id and summary like 'refuse %' limit 1;
        if s is not null then execute format('select %L::int', s); end if;
        return new;
      end $$;
      create trigger refuse_notification before insert on notifications for each row execute function refuse_notification();`);
    const c = await activeCase(t, lead, programId, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      summary: `refuse ${m}`,
    });
    const [f] = await t.db.db.select().from(followUps).where(eq(followUps.caseId, c.id));
    const jobId = jobIds.followUpDue(f!.id, f!.version);
    const queue = t.queues.queue('reminders');
    const w = await workersFor(t);
    try {
      await expect.poll(async () => (await queue.getJob(jobId))?.failedReason, { timeout: 15_000 }).toBeTruthy();
    } finally {
      await w.close(5_000);
    }
    const job = (await queue.getJob(jobId))!;
    expect(job.failedReason).toMatch(/^(query failed: )?invalid input syntax for type integer: "…"$/);
    expect(job.stacktrace?.length).toBeGreaterThan(0);
    for (const s of job.stacktrace ?? []) {
      expect(s).toMatch(/^\w+: (query failed: )?invalid input syntax for type integer: "…"(\n {4}at .*)*$/);
      expect(s).not.toContain(m);
    }

    const stored = backend === 'redis' ? await redisDump(redisUrl!, `{${t.namespace}}`) : await schemaDump(admin, `bullmq_${t.namespace}`);
    expect(stored).toContain(jobId);
    expect(stored).toContain('invalid input syntax for type integer');
    expect(stored).not.toContain(m);

    const text = logLines.join('');
    expect(text).toContain('job failed');
    expect(text).not.toContain(m);
  });
});

/**
 * P0 and the two ceilings, run as their own process by bench/api.ts with the same node, the same
 * tsx loader and the same logger settings as the service (pino at LOG_LEVEL=warn, so no request
 * logging). Prints one line with its URL.
 *
 *   GET  /            P0: bare Fastify hello-world
 *   GET  /read/:id    C1: Fastify + one prepared, indexed PostgreSQL read (a case row by id)
 *   POST /insert      C2: Fastify + one autocommit INSERT (its own transaction, so one WAL flush)
 *   GET  /rows/:staff C3: Fastify + one prepared, indexed read of a caseload's rows (an assignee's
 *                     active cases joined to their profiles, the caseload's columns, no follow-ups)
 *   GET  /rows-json/:staff C4: C3 with the JSON built by PostgreSQL (one text value to send as it is)
 *   POST /tx/:case    C5: Fastify + the least a write that reads before it decides costs with
 *                     node-postgres: BEGIN, the case row locked and read, one INSERT, COMMIT
 *
 * The ceilings use the service's database (DATABASE_URL) with a pool of the service's size (20),
 * node-postgres as the service does, and Fastify's default serialiser.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', pretty: false });
const app = Fastify({ loggerInstance: logger });
app.get('/', async () => ({ hello: 'world' }));

const url = process.env['DATABASE_URL'];
if (url) {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  await pool.query(
    'create table if not exists bench_ceiling (id uuid primary key, at timestamptz not null default now(), body jsonb not null)',
  );
  app.get<{ Params: { id: string } }>('/read/:id', async (request, reply) => {
    const r = await pool.query({ name: 'ceiling-read', text: 'select * from cases where id = $1', values: [request.params.id] });
    if (r.rows.length === 0) return reply.code(404).send({ title: 'not found' });
    return r.rows[0];
  });
  app.get<{ Params: { staff: string } }>('/rows/:staff', async (request) => {
    const r = await pool.query({
      name: 'ceiling-rows',
      text: `select c.id, p.platform, p.handle, p.display_name as "displayName", c.stage, c.risk_level as "riskLevel",
          c.last_touchpoint_at as "lastTouchpointAt", coalesce(c.last_touchpoint_direction = 'inbound', false) as "awaitingReply"
        from cases c join profiles p on p.case_id = c.id
        where c.assignee_id = $1 and c.status = 'active' order by c.id`,
      values: [request.params.staff],
    });
    return { items: r.rows };
  });
  app.get<{ Params: { staff: string } }>('/rows-json/:staff', async (request, reply) => {
    const r = await pool.query({
      name: 'ceiling-rows-json',
      text: `select '{"items":[' || coalesce(string_agg(row_to_json(item)::text, ',' order by c.id), '') || ']}' as body, array_agg(c.id) as ids
        from cases c join profiles p on p.case_id = c.id
        cross join lateral (select c.id, p.platform, p.handle, p.display_name as "displayName", c.stage, c.risk_level as "riskLevel",
          to_char(c.last_touchpoint_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "lastTouchpointAt",
          coalesce(c.last_touchpoint_direction = 'inbound', false) as "awaitingReply") item
        where c.assignee_id = $1 and c.status = 'active'`,
      values: [request.params.staff],
    });
    return reply.type('application/json; charset=utf-8').send(r.rows[0].body);
  });
  app.post<{ Params: { case: string } }>('/tx/:case', async (request, reply) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const c = await client.query({
        name: 'ceiling-lock',
        text: 'select * from cases where id = $1 for update',
        values: [request.params.case],
      });
      if (c.rows.length === 0) {
        await client.query('rollback');
        return reply.code(404).send({ title: 'not found' });
      }
      const id = randomUUID();
      await client.query({
        name: 'ceiling-insert',
        text: 'insert into bench_ceiling (id, body) values ($1, $2)',
        values: [id, request.body],
      });
      await client.query('commit');
      return reply.code(201).send({ id });
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  });
  app.post('/insert', async (request, reply) => {
    const id = randomUUID();
    await pool.query({ name: 'ceiling-insert', text: 'insert into bench_ceiling (id, body) values ($1, $2)', values: [id, request.body] });
    return reply.code(201).send({ id });
  });
  app.addHook('onClose', async () => pool.end());
}

const listening = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`hello listening on ${listening}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

/**
 * P0 and the two ceilings, run as their own process by bench/api.ts with the same node, the same
 * tsx loader and the same logger settings as the service (pino at LOG_LEVEL=warn, so no request
 * logging). Prints one line with its URL.
 *
 *   GET  /            P0: bare Fastify hello-world
 *   GET  /read/:id    C1: Fastify + one prepared, indexed PostgreSQL read (a case row by id)
 *   POST /insert      C2: Fastify + one autocommit INSERT (its own transaction, so one WAL flush)
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

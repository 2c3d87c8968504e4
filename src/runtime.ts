import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { startWorkers, type RunningWorkers } from '../workers/index.js';
import type { Config } from './config/env.js';
import { createDb, type DbHandle } from './db/client.js';
import { type EmbeddedServer, startEmbeddedPostgres } from './db/embedded.js';
import { runMigrations } from './db/migrate.js';
import { type Clock, systemClock } from './domain/clock.js';
import { bootstrapAdmin } from './domain/staff/tokens.js';
import { buildServer } from './http/app.js';
import { checkRedisPolicy, createQueueSystem, type QueueSystem } from './queue/system.js';

const DRAIN_MS = 750;

export interface Database {
  url: string;
  secret: string;
  embedded?: EmbeddedServer;
}

/** DATABASE_URL, or the embedded cluster in the data dir (with its generated secret). */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, secret: config.secret! };
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const log = logger.child({ component: 'embedded-postgres' });
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), log: (l) => log.debug(l) });
  return { url: embedded.url, secret: config.secret ?? (await localSecret(dataDir)), embedded };
}

/** Generated once and kept in the data dir: the embedded default needs no configuration. */
async function localSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(() => {});
    return (await readFile(file, 'utf8')).trim();
  }
}

export interface Running {
  url?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Apply migrations before serving (default: when the role is `all`). */
  migrate?: boolean;
}

/** Boots the roles the config asks for; close() shuts down in reverse order. */
export async function start(opts: StartOptions): Promise<Running> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) {
      try {
        await c.close();
      } catch (err) {
        logger.warn({ err }, `error closing ${c.name}`);
      }
    }
  };
  try {
    const database = await openDatabase(config, logger);
    if (database.embedded) closers.push({ name: 'embedded postgres', close: () => database.embedded!.stop() });
    const handle: DbHandle = createDb(database.url, { onError: (err) => logger.warn({ err }, 'idle database client error') });
    closers.push({ name: 'database pool', close: () => handle.close() });
    if (opts.migrate ?? config.role === 'all') await runMigrations(handle.db);
    if (config.bootstrapAdminToken) {
      const id = await bootstrapAdmin(handle.db, database.secret, config.bootstrapAdminToken);
      if (id) logger.info({ staffId: id }, 'created the bootstrap admin from OVERTURE_BOOTSTRAP_ADMIN_TOKEN');
    }
    if (config.redisUrl) await checkRedisPolicy(config.redisUrl, logger);
    const queues: QueueSystem = createQueueSystem({ redisUrl: config.redisUrl, databaseUrl: database.url, logger });
    closers.push({ name: 'queues', close: () => queues.close() });

    let workers: RunningWorkers | undefined;
    if (config.role !== 'api') {
      workers = await startWorkers({ db: handle.db, queues, clock, logger, secret: database.secret, webhookAllowPrivate: config.webhookAllowPrivate }, { every: { reconcile: config.reconcileEveryMs } });
      closers.push({ name: 'workers', close: () => workers!.close(8_000) });
    }
    let url: string | undefined;
    if (config.role !== 'worker') {
      const server = await buildServer({ config, db: handle.db, pool: handle.pool, secret: database.secret, clock, queues, logger });
      closers.push({
        name: 'http server',
        close: async () => {
          // Drain: readyz says 503 so load balancers stop sending, while requests already sent
          // (even those still in the accept queue) are served; then stop listening and finish.
          server.draining = true;
          await new Promise((r) => setTimeout(r, DRAIN_MS));
          await server.close();
        },
      });
      url = await server.listen({ port: config.port, host: config.host });
    }
    return { url, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

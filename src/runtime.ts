import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import { startWorkers, type RunningWorkers } from '../workers/index.js';
import { type Config, ConfigError } from './config/env.js';
import { createDb, type DbHandle } from './db/client.js';
import { type EmbeddedServer, startEmbeddedPostgres } from './db/embedded.js';
import { runMigrations } from './db/migrate.js';
import { type Clock, systemClock } from './domain/clock.js';
import { bootstrapAdmin } from './domain/staff/tokens.js';
import { buildServer } from './http/app.js';
import { assertQueuePrefixOwned } from './queue/ownership.js';
import { checkRedisPolicy, createQueueSystem, type QueueSystem } from './queue/system.js';

const DRAIN_MS = 750;

export interface Database {
  url: string;
  secret: string;
  embedded?: EmbeddedServer;
}

/**
 * DATABASE_URL, or the embedded cluster in the data dir (with its generated secret). Only the
 * service creates that cluster; a command (`command: true`) uses the running service's, or
 * starts the existing cluster for itself, and says so when there is none yet.
 */
export async function openDatabase(config: Config, logger: Logger, opts: { command?: boolean } = {}): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, secret: config.secret! };
  assertEmbeddedInstalled();
  const dataDir = path.resolve(config.dataDir);
  if (!opts.command) await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const log = logger.child({ component: 'embedded-postgres' });
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    create: !opts.command,
    role: opts.command ? 'command' : 'service',
    log: (line, level = 'debug') => log[level](line),
  });
  try {
    return { url: embedded.url, secret: config.secret ?? (await localSecret(dataDir)), embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/** embedded-postgres is an optional dependency: the production image omits it and needs DATABASE_URL. */
function assertEmbeddedInstalled() {
  const require = createRequire(import.meta.url);
  for (const name of ['embedded-postgres', `@embedded-postgres/${process.platform}-${process.arch}`]) {
    try {
      require.resolve(name);
    } catch {
      throw new ConfigError(`DATABASE_URL is not set and the embedded PostgreSQL is not installed (${name}): set DATABASE_URL, or run \`npm install\` in a checkout`);
    }
  }
}

/** Generated once and kept in the data dir: the embedded default needs no configuration. */
async function localSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dataDir, { recursive: true, mode: 0o755 });
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
    // Before any producer or worker: a prefix another database owns would hand us its jobs.
    if (config.redisUrl) await assertQueuePrefixOwned({ redisUrl: config.redisUrl, prefix: config.queuePrefix, pool: handle.pool, logger });
    const queues: QueueSystem = createQueueSystem({ redisUrl: config.redisUrl, databaseUrl: database.url, namespace: config.queuePrefix, logger });
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
      url = await server.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
        throw listenError(err, config);
      });
    }
    return { url, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** What stops the HTTP server from listening, in one line naming the variable that changes it. */
function listenError(err: unknown, config: Config): unknown {
  const where = `${config.host}:${config.port}`;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ConfigError(`port ${config.port} is already in use (${where}; another Overture, or another program): stop it, or set PORT to a free port`);
    case 'EACCES':
      return new ConfigError(`not allowed to listen on port ${config.port} (${where}; ports below 1024 need privileges): set PORT to 1024 or above`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST ${config.host} is not an address of this machine: set HOST (127.0.0.1, or 0.0.0.0 for every interface)`);
    default:
      return err;
  }
}

/**
 * Process composition, and the only module in src/ that imports workers/: it starts the database,
 * the queues, the workers and the HTTP server for the roles the config asks for. Nothing under
 * workers/ imports this file, so src/ and workers/ form no cycle.
 */
import type { Logger } from 'pino';
import type { RunningWorkers } from '../workers/index.js';
import { type Config, ConfigError } from './config/env.js';
import type { DbHandle } from './db/client.js';
import type { Clock } from './domain/clock.js';
import type { QueueSystem } from './queue/system.js';
import { openDatabase } from './runtime.js';

const DRAIN_MS = 750;

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
  // Loaded here, not at the top: `overture health` imports this module and must stay light.
  const [
    { startWorkers },
    { createDb },
    { runMigrations },
    { systemClock },
    { bootstrapAdmin },
    { buildServer },
    { assertQueuePrefixOwned },
    { checkRedisPolicy, createQueueSystem },
    { dbQueries },
  ] = await Promise.all([
    import('../workers/index.js'),
    import('./db/client.js'),
    import('./db/migrate.js'),
    import('./domain/clock.js'),
    import('./domain/staff/tokens.js'),
    import('./http/app.js'),
    import('./queue/ownership.js'),
    import('./queue/system.js'),
    import('./metrics.js'),
  ]);
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
    const handle: DbHandle = createDb(database.url, {
      onError: (err) => logger.warn({ err }, 'idle database client error'),
      onQuery: () => dbQueries.inc(),
    });
    closers.push({ name: 'database pool', close: () => handle.close() });
    if (opts.migrate ?? config.role === 'all') await runMigrations(handle.db);
    if (config.bootstrapAdminToken) {
      const id = await bootstrapAdmin(handle.db, database.secret, config.bootstrapAdminToken);
      if (id) logger.info({ staffId: id }, 'created the bootstrap admin from OVERTURE_BOOTSTRAP_ADMIN_TOKEN');
    }
    if (config.redisUrl) await checkRedisPolicy(config.redisUrl, logger);
    // Before any producer or worker: a prefix another database owns would hand us its jobs.
    if (config.redisUrl) await assertQueuePrefixOwned({ redisUrl: config.redisUrl, prefix: config.queuePrefix, pool: handle.pool, logger });
    const queues: QueueSystem = createQueueSystem({
      redisUrl: config.redisUrl,
      databaseUrl: database.url,
      namespace: config.queuePrefix,
      logger,
    });
    closers.push({ name: 'queues', close: () => queues.close() });

    let workers: RunningWorkers | undefined;
    if (config.role !== 'api') {
      workers = await startWorkers(
        { db: handle.db, queues, clock, logger, secret: database.secret, webhookAllowPrivate: config.webhookAllowPrivate },
        { every: { reconcile: config.reconcileEveryMs } },
      );
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
      return new ConfigError(
        `port ${config.port} is already in use (${where}; another Overture, or another program): stop it, or set PORT to a free port`,
      );
    case 'EACCES':
      return new ConfigError(
        `not allowed to listen on port ${config.port} (${where}; ports below 1024 need privileges): set PORT to 1024 or above`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST ${config.host} is not an address of this machine: set HOST (127.0.0.1, or 0.0.0.0 for every interface)`);
    default:
      return err;
  }
}

/** The worker role's health for `overture health`: the age of the heartbeat its workers record. */
export async function workerHeartbeat() {
  const { HEARTBEAT_STALE_MS, heartbeatFile, readHeartbeat } = await import('../workers/heartbeat-file.js');
  const file = heartbeatFile();
  return { file, beat: await readHeartbeat(file), staleMs: HEARTBEAT_STALE_MS };
}

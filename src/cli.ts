import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { type Config, ConfigError, loadConfig } from './config/env.js';
import { createDb } from './db/client.js';
import { uuidv7 } from './db/ids.js';
import { runMigrations } from './db/migrate.js';
import { staff } from './db/schema/index.js';
import { verifyAudit } from './domain/audit/query.js';
import { createToken } from './domain/staff/tokens.js';
import { createLogger, type SafeError, serializeError } from './logger.js';
import { openDatabase, start } from './runtime.js';

const USAGE = `Usage: overture <command>

  start                       run the service (OVERTURE_ROLE: all | api | worker)
  migrate                     apply database migrations
  token create --admin [--name NAME] [--label LABEL]
                              create an admin and print a token for it (shown once)
  token create --staff ID [--label LABEL]
                              print a new token for a staff member (shown once)
  audit verify                recompute the audit hash chain (exit 3 if broken)
`;

async function withDatabase<T>(config: Config, fn: (h: ReturnType<typeof createDb>, secret: string) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const database = await openDatabase(config, logger);
  const handle = createDb(database.url, { max: 2 });
  try {
    return await fn(handle, database.secret);
  } finally {
    await handle.close();
    await database.embedded?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`overture: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  switch (command) {
    case 'start':
      return runService(config);
    case 'migrate':
      await withDatabase(config, async (h) => runMigrations(h.db));
      process.stdout.write('migrations applied\n');
      return 0;
    case 'audit': {
      if (sub !== 'verify') break;
      const result = await withDatabase(config, async (h) => verifyAudit(h.db));
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return result.ok ? 0 : 3;
    }
    case 'token': {
      if (sub !== 'create') break;
      const { values } = parseArgs({
        args: rest,
        options: { admin: { type: 'boolean' }, staff: { type: 'string' }, name: { type: 'string' }, label: { type: 'string' } },
      });
      if (!values.admin && !values.staff) break;
      const token = await withDatabase(config, async (h, secret) => {
        await runMigrations(h.db);
        let staffId = values.staff;
        if (values.admin) {
          staffId = uuidv7();
          await h.db.insert(staff).values({ id: staffId, name: values.name ?? 'admin', role: 'admin', programId: null });
        } else {
          const [row] = await h.db.select({ id: staff.id, active: staff.active }).from(staff).where(eq(staff.id, staffId!));
          if (!row) throw new ConfigError(`no staff member ${staffId}`);
          if (!row.active) throw new ConfigError(`staff member ${staffId} is deactivated`);
        }
        return { staffId, ...(await createToken(h.db, secret, staffId!, values.label ?? 'cli')) };
      });
      process.stdout.write(`staff ${token.staffId}\ntoken ${token.token}\n(shown once: store it now)\n`);
      return 0;
    }
  }
  process.stderr.write(USAGE);
  return command ? 2 : 0;
}

async function runService(config: Config): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const running = await start({ config, logger });
  if (running.url) {
    const base = running.url.replace('0.0.0.0', '127.0.0.1');
    logger.info(`Overture is up: ${base}  (API docs: ${base}/docs, readiness: ${base}/readyz)`);
    if (!config.databaseUrl) {
      logger.info('Get an admin token with: npx overture token create --admin   (or set OVERTURE_BOOTSTRAP_ADMIN_TOKEN)');
    }
  } else {
    logger.info('Overture workers are running');
  }
  return new Promise((resolve) => {
    let stoppingSince = 0;
    const stop = (signal: string) => {
      if (stoppingSince) {
        // npm and the terminal both deliver Ctrl-C: only a later, deliberate second signal forces exit.
        if (Date.now() - stoppingSince < 1000) return;
        logger.warn('second signal: exiting now');
        process.exit(1);
      }
      stoppingSince = Date.now();
      logger.info({ signal }, 'shutting down');
      const hard = setTimeout(() => {
        logger.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, 10_000);
      hard.unref();
      running.close().then(
        () => {
          logger.info('stopped cleanly');
          resolve(0);
        },
        () => resolve(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

/** A fatal error as the err serializer sees it (stderr is a log too): the stack, then each cause. */
function describeFatal(e: SafeError): string {
  const lines = [e.stack ?? `${e.type}: ${e.message}`];
  for (let c = e.cause; c; c = c.cause) lines.push(`caused by ${c.type}${c.code ? ` (${c.code})` : ''}: ${c.message}`);
  return lines.join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino flush, then leave even if a library kept a handle open.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`overture: ${err.message}\n`);
    else process.stderr.write(`overture: ${describeFatal(serializeError(err))}\n`);
    process.exit(1);
  },
);

import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from './config/env.js';
import { PACKAGE_VERSION } from './config/package-root.js';
import { EmbeddedPostgresError } from './db/embedded.js';
import type { DbHandle } from './db/client.js';
import type { Logger } from 'pino';

// The service's modules are imported by the commands that need them: `--help`, `--version` and
// `health` (a container healthcheck every few seconds) answer at once.

const USAGE = `Usage: overture <command>

  start                       run the service (OVERTURE_ROLE: all | api | worker); the only
                              command that creates the embedded database
  migrate                     apply database migrations
  token create --admin [--name NAME] [--label LABEL]
                              print a token for the active admin (the one named NAME with --name;
                              created when there is none) (shown once)
  token create --staff ID [--label LABEL]
                              print a new token for a staff member (shown once)
  audit verify                recompute the audit hash chain (exit 3 if broken)
  health                      exit 0 when this container's role is healthy: the worker's
                              heartbeat is fresh (worker), /readyz answers 200 (api, all)
  help, --help, -h            this text
  --version                   the version

Configuration is read from the environment (see the README's Configuration table).
`;

const USAGE_LINE =
  'usage: overture start | migrate | token create (--admin [--name NAME] | --staff ID) [--label LABEL] | audit verify | health | --help | --version';

/** A command line we cannot run: one line and exit 2. */
class UsageError extends Error {}

const OPTIONS = {
  start: {},
  migrate: {},
  'audit verify': {},
  health: {},
  'token create': { admin: { type: 'boolean' }, staff: { type: 'string' }, name: { type: 'string' }, label: { type: 'string' } },
} as const;

type CommandName = keyof typeof OPTIONS;

interface Parsed {
  command: CommandName | 'help' | 'version';
  values: { admin?: boolean; staff?: string; name?: string; label?: string };
}

/** Quoted and cut short: a mistyped argument is echoed back, but never at length or with control characters. */
const shown = (arg: string) => JSON.stringify(arg.length > 40 ? `${arg.slice(0, 40)}…` : arg);

export function parseCommand(argv: string[]): Parsed {
  if (argv.length === 0 || argv[0] === 'help' || argv.includes('--help') || argv.includes('-h')) return { command: 'help', values: {} };
  if (argv[0] === '--version') {
    if (argv.length > 1) throw new UsageError(`unexpected argument ${shown(argv[1]!)} after --version`);
    return { command: 'version', values: {} };
  }
  const first = argv[0]!;
  if (first.startsWith('-')) throw new UsageError(`unknown option ${shown(first)}`);
  const words = first === 'token' || first === 'audit' ? 2 : 1;
  const name = argv.slice(0, words).join(' ');
  if (!(name in OPTIONS)) {
    throw new UsageError(words === 2 && argv.length < 2 ? `${first} needs a subcommand` : `unknown command ${shown(name)}`);
  }
  try {
    const { values } = parseArgs({ args: argv.slice(words), options: OPTIONS[name as CommandName], strict: true, allowPositionals: false });
    return { command: name as CommandName, values: values as Parsed['values'] };
  } catch (err) {
    // Node's wording, first sentence only (it goes on about `--` for positionals).
    const message = err instanceof Error ? err.message.split(/\.\s/, 1)[0]! : String(err);
    throw new UsageError(`${name}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`);
  }
}

async function withDatabase<T>(config: Config, fn: (h: DbHandle, secret: string) => Promise<T>): Promise<T> {
  const [{ createLogger }, { openDatabase }, { createDb }] = await Promise.all([
    import('./logger.js'),
    import('./runtime.js'),
    import('./db/client.js'),
  ]);
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const database = await openDatabase(config, logger, { command: true });
  const handle = createDb(database.url, { max: 2 });
  try {
    return await fn(handle, database.secret);
  } finally {
    await handle.close();
    await database.embedded?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`overture: ${err.message}; ${USAGE_LINE}\n`);
    return 2;
  }
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.command === 'version') {
    process.stdout.write(`${PACKAGE_VERSION}\n`);
    return 0;
  }
  const values = parsed.values;
  if (parsed.command === 'token create') {
    // Checked before the environment and the database: a wrong command line is exit 2 wherever it runs.
    try {
      await checkTokenArgs(values);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      process.stderr.write(`overture: token create: ${err.message}; ${USAGE_LINE}\n`);
      return 2;
    }
  }
  const config = loadConfig();

  switch (parsed.command) {
    case 'start':
      return runService(config);
    case 'health':
      return health(config);
    case 'migrate': {
      const { runMigrations } = await import('./db/migrate.js');
      await withDatabase(config, async (h) => runMigrations(h.db));
      process.stdout.write('migrations applied\n');
      return 0;
    }
    case 'audit verify': {
      const { verifyAudit } = await import('./domain/audit/query.js');
      const result = await withDatabase(config, async (h) => verifyAudit(h.db));
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return result.ok ? 0 : 3;
    }
    case 'token create':
      return tokenCreate(config, values);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The same limits as the API's (POST /v1/staff `name`, POST /v1/staff/{id}/tokens `label`). */
async function checkTokenArgs(v: Parsed['values']): Promise<void> {
  if (Boolean(v.admin) === Boolean(v.staff)) throw new UsageError('give either --admin or --staff ID');
  if (v.staff !== undefined && !UUID.test(v.staff)) throw new UsageError('--staff takes a staff id (a UUID)');
  if (v.staff !== undefined && v.name !== undefined) throw new UsageError('--name goes with --admin (a staff member keeps their name)');
  const { singleLine } = await import('./http/schemas/common.js');
  if (v.name !== undefined && !singleLine({ min: 1, max: 200 }).safeParse(v.name).success) {
    throw new UsageError('--name takes 1 to 200 characters on one line');
  }
  if (v.label !== undefined && !singleLine({ min: 1, max: 100 }).safeParse(v.label).success) {
    throw new UsageError('--label takes 1 to 100 characters on one line');
  }
}

/**
 * `--admin` reuses the active admin (the oldest, or the one named `--name`) and creates one only
 * when there is none: running it twice does not leave two staff members named "admin".
 */
async function tokenCreate(config: Config, v: Parsed['values']): Promise<number> {
  const [{ runMigrations }, { issueOperatorToken }] = await Promise.all([import('./db/migrate.js'), import('./domain/staff/operator.js')]);
  const result = await withDatabase(config, async (h, secret) => {
    await runMigrations(h.db);
    const label = v.label ?? 'cli';
    const issued = await issueOperatorToken(
      h.db,
      secret,
      v.admin ? { admin: true, name: v.name, label } : { admin: false, staffId: v.staff!, label },
    );
    if (issued.outcome === 'no_such_staff') throw new ConfigError(`no staff member ${issued.staffId}`);
    if (issued.outcome === 'deactivated') throw new ConfigError(`staff member ${issued.staffId} is deactivated`);
    const { staffId, admin } = issued;
    const note = !admin
      ? `a new token for staff member ${staffId}`
      : admin.created
        ? `created the admin ${JSON.stringify(admin.name)} (${staffId})`
        : `a new token for the existing admin ${JSON.stringify(admin.name)} (${staffId})${v.name === undefined ? '; --name NAME creates another admin' : ''}`;
    return { staffId, note, token: issued.token };
  });
  process.stderr.write(`overture: ${result.note}\n`);
  process.stdout.write(`staff ${result.staffId}\ntoken ${result.token}\n(shown once: store it now)\n`);
  return 0;
}

/**
 * For a container healthcheck (`node dist/src/cli.js health`): the worker role has no HTTP server,
 * so it is judged by the heartbeat its workers record; the others by their own /readyz.
 */
async function health(config: Config): Promise<number> {
  if (config.role === 'worker') {
    const { file, beat, staleMs } = await (await import('./compose.js')).workerHeartbeat();
    if (!beat) {
      process.stderr.write(`overture: unhealthy: no worker heartbeat in ${file} (the workers have not started, or stopped)\n`);
      return 1;
    }
    const age = Date.now() - beat.at;
    if (age > staleMs) {
      process.stderr.write(
        `overture: unhealthy: the last worker heartbeat is ${Math.round(age / 1000)} s old (workers stopped, or cannot reach Redis or PostgreSQL)\n`,
      );
      return 1;
    }
    process.stdout.write(`healthy: worker heartbeat ${Math.max(0, Math.round(age / 1000))} s ago\n`);
    return 0;
  }
  const host = ['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${config.port}/readyz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    await res.body?.cancel();
    if (res.status === 200) {
      process.stdout.write(`healthy: ${url} answered 200\n`);
      return 0;
    }
    process.stderr.write(`overture: unhealthy: ${url} answered ${res.status}\n`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    process.stderr.write(`overture: unhealthy: nothing answers on ${url} (${cause})\n`);
  }
  return 1;
}

async function runService(config: Config): Promise<number> {
  const [{ createLogger }, { start }] = await Promise.all([import('./logger.js'), import('./compose.js')]);
  const logger: Logger = createLogger({ level: config.logLevel });
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

/** Network failures reaching a database or Redis: what to check, without the URL (it may hold a password). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/** A fatal error as the err serializer sees it (stderr is a log too): the stack, then each cause. */
async function describeFatal(err: unknown): Promise<string> {
  const { serializeError } = await import('./logger.js');
  const e = serializeError(err);
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
  async (err: unknown) => {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (err instanceof ConfigError || err instanceof EmbeddedPostgresError) process.stderr.write(`overture: ${err.message}\n`);
    else if (code && UNREACHABLE.has(code)) {
      process.stderr.write(`overture: cannot reach the database or Redis (${code}): is it running? check DATABASE_URL and REDIS_URL\n`);
    } else process.stderr.write(`overture: ${await describeFatal(err)}\n`);
    process.exit(1);
  },
);

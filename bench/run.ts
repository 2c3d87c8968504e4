/**
 * `npm run bench` runs api, reports and queue in sequence; `npm run bench -- api|reports|queue`
 * runs the ones named. Prints a summary table and PASS/MISS per target, writes the figures to
 * bench/results/latest.json (sections that did not run keep their previous figures), and always
 * exits 0: benchmarks report, they do not gate.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { runApi } from './api.js';
import { openBenchPostgres } from './lib/db.js';
import { installSignalCleanup, log, REPO_ROOT, runCleanups } from './lib/env.js';
import { describeTarget, type Section } from './lib/report.js';
import { runQueue } from './queue.js';
import { runReports } from './reports.js';

const BENCHES = { api: runApi, reports: runReports, queue: runQueue } as const;
type BenchName = keyof typeof BENCHES;
const RESULTS = path.join(REPO_ROOT, 'bench', 'results', 'latest.json');

async function redisVersion(url: string | undefined): Promise<string | null> {
  if (!url) return null;
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    await r.connect();
    return /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? null;
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main() {
  installSignalCleanup();
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = args.filter((a) => !(a in BENCHES));
  if (unknown.length > 0) {
    log(`usage: npm run bench [-- api|reports|queue ...]   (unknown: ${unknown.join(', ')})`);
    return;
  }
  const names = (args.length > 0 ? args : Object.keys(BENCHES)) as BenchName[];
  const started = Date.now();
  // The tree may move during a long run (the service processes load it when they start).
  const commitAtStart = gitCommit();
  const postgres = await openBenchPostgres();
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: await postgres.version(),
    postgresSource: postgres.kind,
    redis: await redisVersion(process.env['REDIS_URL']),
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
  log(
    `bench: ${names.join(', ')} on ${machine.nproc} cores, ${machine.memoryGb} GB, node ${machine.node}, PostgreSQL ${machine.postgres} (${machine.postgresSource})` +
      `${machine.redis ? `, Redis ${machine.redis}` : ''}; load average ${machine.loadAverageAtStart.join(' ')}`,
  );

  const sections: Partial<Record<BenchName, Section>> = {};
  const failures: Record<string, string> = {};
  try {
    for (const name of names) {
      try {
        sections[name] = await BENCHES[name](postgres);
      } catch (err) {
        failures[name] = (err as Error).message;
        process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? err}\n`);
      }
    }
  } finally {
    await postgres.close();
  }

  log(`\n== summary (${Math.round((Date.now() - started) / 1000)} s)`);
  const rows: string[][] = [['bench', 'figure', 'measured', 'baseline', 'ratio']];
  for (const [name, s] of Object.entries(sections)) {
    for (const r of s.summary) rows.push([name, r.what, r.value, r.baseline ?? '', r.ratio ?? '']);
  }
  log(table(rows));
  const targets = Object.values(sections).flatMap((s) => s.targets);
  if (targets.length > 0) {
    log('\ntargets:');
    for (const t of targets) log(`  ${describeTarget(t)}`);
    log(`  ${targets.filter((t) => t.pass).length} of ${targets.length} met`);
  }
  for (const [name, s] of Object.entries(sections)) for (const n of s.notes) log(`note (${name}): ${n}`);
  for (const [name, message] of Object.entries(failures)) log(`FAILED ${name}: ${message}`);

  let previous: { sections?: Record<string, unknown> } = {};
  try {
    previous = JSON.parse(await readFile(RESULTS, 'utf8')) as typeof previous;
  } catch {}
  // Every BENCH_* setting of the run (not BENCH_DATABASE_URL: it may hold a password).
  const settings = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('BENCH_') && k !== 'BENCH_DATABASE_URL')
      .sort()
      .map((k) => [k, process.env[k]]),
  );
  const commitAtEnd = gitCommit();
  const out = {
    writtenAt: new Date().toISOString(),
    commit: commitAtStart,
    ...(commitAtEnd !== commitAtStart ? { commitAtEnd } : {}),
    machine,
    settings,
    failures,
    sections: {
      ...(previous.sections ?? {}),
      ...Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, { ...s, machine, commit: commitAtStart, settings }])),
    },
  };
  await mkdir(path.dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(out, null, 2)}\n`);
  log(`\nfigures written to ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
}

main()
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  })
  .finally(() =>
    runCleanups().finally(() => {
      // Always 0: a missed target is a finding, not a failure.
      process.exit(0);
    }),
  );

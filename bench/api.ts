/**
 * API throughput against a bare Fastify hello-world measured in the same run.
 *
 *   P0  GET /                           bare Fastify, its own process (the baseline)
 *   C1  GET /read/{id}                  the same process + one prepared, indexed read (ceiling of P1, P2)
 *   C2  POST /insert                    the same process + one autocommit INSERT (ceiling of P3)
 *   C3  GET /rows/{staffId}             the same process + one prepared read of the caseload's rows (ceiling of P2)
 *   C4  GET /rows-json/{staffId}        C3 with the JSON built by PostgreSQL (only with BENCH_API_RUNS=c4)
 *   C5  POST /tx/{caseId}               the same process + BEGIN, a locked case read, an insert, COMMIT (ceiling of P3)
 *   P1  GET /v1/cases/{id}              intervener, 50 connections, rotating over their cases
 *   P2  GET /v1/me/caseload             intervener holding 50 active cases (BENCH_CASELOAD)
 *   P3  POST /v1/cases/{id}/touchpoints unique Idempotency-Key each, inbound/outbound alternating
 *
 * The service is the real one, started as `npm start` starts it (OVERTURE_ROLE=all, LOG_LEVEL=warn,
 * queues and rate limits on Redis when REDIS_URL is set), in its own process; load comes from wrk
 * (two threads) over loopback. Round trips per request come from the service's own statement
 * counter (`overture_db_queries_total`), pg_stat_database and Redis' INFO.
 * Both servers stay up throughout; P0 is measured before P1 and after each run, and each run is
 * compared with the mean of the two P0 runs either side of it (the machine is shared and noisy).
 */
import { randomBytes } from 'node:crypto';
import { type BenchPostgres, openBenchPostgres, openPool } from './lib/db.js';
import { benchSeconds, envFlag, envNumber, installSignalCleanup, isMain, log, runCleanups, sleep, warmupSeconds } from './lib/env.js';
import { fmt, type LoadFigures, type LoadPlan, measure, WRK } from './lib/load.js';
import { describeWaits, WaitSampler } from './lib/pgwait.js';
import { memoryOf, RssSampler, startHello, startService } from './lib/process.js';
import { deleteRedisNamespace, redisCommandsProcessed } from './lib/redis.js';
import { pct, printTargets, type Section, target } from './lib/report.js';

type Json = Record<string, unknown>;

/** A small HTTP client for seeding through the real API. */
function apiClient(base: string) {
  return async function call<T = Json>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

interface Seed {
  /** Holds `caseloadSize` active cases (P1, P2). */
  reader: { id: string; token: string; cases: string[] };
  /** Holds one active case per P3 connection. */
  writer: { id: string; token: string; cases: string[] };
}

let handleSeq = 0;
const flagBody = (programId: string) => ({
  programId,
  profile: { platform: 'x', handle: `@b${(++handleSeq).toString(36)}_${randomBytes(4).toString('hex')}`, language: 'en' },
  ideology: handleSeq % 2 ? 'far_right' : 'islamist',
  riskLevel: ['low', 'medium', 'high'][handleSeq % 3],
  indicators: [{ kind: 'shares_propaganda', evidenceUrl: 'https://example.org/post/1', note: 'reposted a manifesto' }],
});

/** Program, lead, two interveners with tokens, and their active cases, all through the API. */
export async function seed(base: string, adminToken: string, caseloadSize: number, writerCases: number): Promise<Seed> {
  const call = apiClient(base);
  const program = await call<{ id: string }>(adminToken, 'POST', '/v1/programs', { name: `Bench ${randomBytes(3).toString('hex')}` });
  const staff = async (role: string, maxCaseload?: number) => {
    const s = await call<{ id: string }>(adminToken, 'POST', '/v1/staff', {
      programId: program.id,
      name: `${role} ${randomBytes(2).toString('hex')}`,
      role,
      specialisms: ['far_right', 'islamist'],
      languages: ['en'],
      ...(maxCaseload ? { maxCaseload } : {}),
    });
    const t = await call<{ token: string }>(adminToken, 'POST', `/v1/staff/${s.id}/tokens`, { label: 'bench' });
    return { id: s.id, token: t.token };
  };
  const lead = await staff('lead');
  const reader = await staff('intervener', caseloadSize);
  const writer = await staff('intervener', Math.max(writerCases, 1));
  const activeCase = async (intervenerId: string) => {
    const c = await call<{ id: string }>(lead.token, 'POST', '/v1/cases', flagBody(program.id));
    await call(lead.token, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    await call(lead.token, 'POST', `/v1/cases/${c.id}/approve`, {});
    await call(lead.token, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId });
    return c.id;
  };
  const readerCases: string[] = [];
  for (let i = 0; i < caseloadSize; i++) {
    const id = await activeCase(reader.id);
    readerCases.push(id);
    // A caseload with some history: a first message (which schedules a follow-up) and, for most, a reply.
    await call(reader.token, 'POST', `/v1/cases/${id}/touchpoints`, {
      direction: 'outbound',
      channel: 'paid_message',
      occurredAt: new Date().toISOString(),
      approaches: ['empathetic', 'nonjudgmental'],
      costCents: 100,
    });
    if (i % 3 !== 0) {
      await call(reader.token, 'POST', `/v1/cases/${id}/touchpoints`, {
        direction: 'inbound',
        channel: 'direct_message',
        occurredAt: new Date().toISOString(),
        sentiment: 'neutral',
      });
    }
  }
  const writerIds: string[] = [];
  for (let i = 0; i < writerCases; i++) writerIds.push(await activeCase(writer.id));
  return { reader: { ...reader, cases: readerCases }, writer: { ...writer, cases: writerIds } };
}

const ALL_RUNS = ['c1', 'p1', 'c3', 'c4', 'p2', 'c2', 'c5', 'p3'] as const;
type Run = (typeof ALL_RUNS)[number];
/** C4 only when asked for (BENCH_API_RUNS=c4): it showed that who encodes the rows does not move C3. */
const RUNS: readonly Run[] = ALL_RUNS.filter((r) => r !== 'c4');
/** Each path and the same-run ceiling it is read against (besides P0). */
const CEILING_OF: Partial<Record<Run, Run>> = { p1: 'c1', p2: 'c3', p3: 'c5' };

/** BENCH_API_RUNS=p1 (or p1,p3 …) runs only those, e.g. for a CPU profile of one route. */
function selectedRuns(): Run[] {
  const raw = process.env['BENCH_API_RUNS'];
  if (!raw) return [...RUNS];
  const picked = raw.split(',').map((r) => r.trim().toLowerCase());
  return ALL_RUNS.filter((r) => picked.includes(r));
}

const lua = (v: string) => JSON.stringify(v); // a JSON string of [A-Za-z0-9_-/ ] is a valid Lua string
const luaList = (vs: string[]) => `{${vs.map(lua).join(',')}}`;

/** Round trips per request during one measured run, from the service's and the servers' own counters. */
interface Counts {
  requests: number;
  dbQueries: number;
  transactions: number;
  redisCommands: number;
}

/** A counter's sum over its labels, leaving out the series that mention `skip` (the scrapes themselves). */
async function scrapeCounter(base: string, name: string, skip = 'route="/metrics"'): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && !line.includes(skip)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

export async function runApi(pgs?: BenchPostgres): Promise<Section> {
  const started = Date.now();
  const connections = envNumber('BENCH_CONNECTIONS', 50);
  // Issue 20 measures P2 with 50 active cases (15 until session 8: the default maxCaseload).
  const caseloadSize = envNumber('BENCH_CASELOAD', 50);
  const redisUrl = process.env['REDIS_URL'];
  // As the issue measures it: queues and rate limits on Redis when there is one (BENCH_API_REDIS=0: not).
  const useRedis = !!redisUrl && (process.env['BENCH_API_REDIS'] === undefined || envFlag('BENCH_API_REDIS'));
  const queuePrefix = `bench${randomBytes(4).toString('hex')}`;
  const runs = selectedRuns();
  const notes: string[] = [];
  if (!WRK) {
    log('\n== api: skipped: wrk is not installed (apt-get install wrk)');
    return {
      bench: 'api',
      startedAt: new Date(started).toISOString(),
      seconds: 0,
      figures: {},
      summary: [],
      targets: [],
      notes: ['api not run: wrk is not installed'],
    };
  }
  log(
    `\n== api: P0 bare Fastify, ceilings C1–C5, and ${runs.map((r) => r.toUpperCase()).join(', ')} (wrk -t2 -c${connections}, ${warmupSeconds()} s warm-up + ${benchSeconds()} s each)`,
  );
  log('  P0 is measured before the first run and after each one; each run is compared with the mean of the P0 runs either side of it');
  if (useRedis) {
    notes.push(`queues and rate limits on Redis (OVERTURE_QUEUE_PREFIX=${queuePrefix}, deleted afterwards)`);
    log(`  ${notes.at(-1)}`);
  }

  const own = pgs ? undefined : await openBenchPostgres();
  const postgres = pgs ?? own!;
  const db = await postgres.database('api');
  const adminToken = `ovt_${randomBytes(24).toString('base64url')}`;
  const service = await startService({
    databaseUrl: db.url,
    adminToken,
    ...(useRedis ? { redisUrl, queuePrefix } : {}),
  });
  // The ceilings read the service's (migrated) database; started after the service migrated it.
  const hello = await startHello(db.url).catch(async (err) => {
    await service.stop();
    throw err;
  });
  const results: Partial<Record<Run, LoadFigures>> = {};
  const counts: Partial<Record<Run, Counts>> = {};
  const p0s: LoadFigures[] = [];
  const pairs: Partial<Record<Run, { before: number; after: number; baseline: number }>> = {};
  const waits: Partial<Record<Run, Record<string, number>>> = {};
  const rss = new RssSampler(service.pid);
  let seedSeconds = Number.NaN;
  let idleRssMb = Number.NaN;
  let hwmMb = Number.NaN;
  let helloHwmMb = Number.NaN;
  const stats = openPool(db.url, 2);
  try {
    const t0 = Date.now();
    const s = await seed(service.url, adminToken, caseloadSize, connections);
    seedSeconds = (Date.now() - t0) / 1000;
    log(
      `  seeded through the API in ${fmt(seedSeconds)} s: ${s.reader.cases.length} active cases for the reader, ${s.writer.cases.length} for the writer`,
    );
    idleRssMb = (await memoryOf(service.pid))?.rssMb ?? Number.NaN;

    const snapshot = async (): Promise<Counts> => {
      // PostgreSQL publishes a backend's counts within a second of its transactions.
      await sleep(1100);
      const [requests, dbQueries, xacts, redisCommands] = await Promise.all([
        scrapeCounter(service.url, 'overture_http_request_duration_seconds_count'),
        scrapeCounter(service.url, 'overture_db_queries_total'),
        stats.pool.query<{ n: number }>('select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()'),
        useRedis ? redisCommandsProcessed(redisUrl!) : Promise.resolve(0),
      ]);
      return { requests, dbQueries, transactions: Number(xacts.rows[0]!.n), redisCommands };
    };
    // What the service's database sessions do during each measured run.
    const sampler = new WaitSampler(db.url);
    let before0: Counts | undefined;
    const sampled = (run: Run) => ({
      beforeMeasured: async () => {
        if (run.startsWith('p')) before0 = await snapshot();
        rss.start();
        await sampler.start();
      },
      afterMeasured: async () => {
        rss.stop();
        waits[run] = await sampler.stop();
        if (run.startsWith('p') && before0) {
          const after = await snapshot();
          // Requests counted by the service itself (wrk stops at its deadline with some in flight).
          const n = after.requests - before0.requests;
          counts[run] = {
            requests: n,
            dbQueries: (after.dbQueries - before0.dbQueries) / n,
            transactions: (after.transactions - before0.transactions) / n,
            redisCommands: (after.redisCommands - before0.redisCommands) / n,
          };
          const c = counts[run]!;
          log(
            `    per request: ${fmt(c.dbQueries, 2)} PostgreSQL statements, ${fmt(c.transactions, 2)} transactions, ${fmt(c.redisCommands, 2)} Redis commands (Redis counts the workers' polling too)`,
          );
        }
        log(
          `    ${run.startsWith('c') ? 'the ceiling' : 'the service'}'s database sessions, mean per sample: ${describeWaits(waits[run]!)}`,
        );
      },
    });
    const auth = (token: string) => `["Authorization"] = ${lua(`Bearer ${token}`)}`;
    const rotate = (paths: string[], headers: string) => `
local paths = ${luaList(paths)}
local headers = { ${headers} }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n + tid) % #paths + 1], headers)
end`;
    /** Touchpoint bodies POSTed to `prefix .. case .. suffix`, rotating over `cases`. */
    const touchpointLua = (prefix: string, cases: string[], suffix: string, headers: string) => `
local cases = ${luaList(cases)}
local per = math.max(1, math.floor(#cases / 2))
local n = 0
request = function()
  n = n + 1
  local c = cases[(tid * per + n % per) % #cases + 1]
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local body
  if n % 2 == 0 then
    body = '{"direction":"outbound","channel":"paid_message","occurredAt":"' .. now .. '","approaches":["empathetic"],"costCents":100}'
  else
    body = '{"direction":"inbound","channel":"direct_message","occurredAt":"' .. now .. '","sentiment":"neutral"}'
  end
  return wrk.format("POST", "${prefix}" .. c .. "${suffix}", { ${headers}, ["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. tag .. "-" .. tid .. "-" .. n }, body)
end`;
    const plans: Record<Run, { label: string; plan: LoadPlan }> = {
      c1: {
        label: 'C1 Fastify + one prepared read',
        plan: {
          url: hello.url,
          connections,
          lua: rotate(
            s.reader.cases.map((id) => `/read/${id}`),
            '',
          ),
        },
      },
      p1: {
        label: 'P1 GET /v1/cases/{id}',
        plan: {
          url: service.url,
          connections,
          lua: rotate(
            s.reader.cases.map((id) => `/v1/cases/${id}`),
            auth(s.reader.token),
          ),
        },
      },
      c3: {
        label: `C3 Fastify + one prepared read of ${caseloadSize} caseload rows`,
        plan: { url: hello.url, connections, lua: rotate([`/rows/${s.reader.id}`], '') },
      },
      c4: {
        label: `C4 Fastify + the same ${caseloadSize} rows as one JSON text built by PostgreSQL`,
        plan: { url: hello.url, connections, lua: rotate([`/rows-json/${s.reader.id}`], '') },
      },
      p2: {
        label: `P2 GET /v1/me/caseload (${caseloadSize} cases)`,
        plan: { url: service.url, connections, lua: rotate(['/v1/me/caseload'], auth(s.reader.token)) },
      },
      c2: {
        label: 'C2 Fastify + one autocommit insert',
        plan: { url: hello.url, connections, lua: touchpointLua('', ['/insert'], '', '["X-Bench"] = "1"') },
      },
      c5: {
        label: 'C5 Fastify + one minimal write transaction',
        plan: { url: hello.url, connections, lua: touchpointLua('/tx/', s.writer.cases, '', '["X-Bench"] = "1"') },
      },
      p3: {
        label: 'P3 POST /v1/cases/{id}/touchpoints',
        // Spread over the writer's cases; keys unique per request.
        plan: { url: service.url, connections, lua: touchpointLua('/v1/cases/', s.writer.cases, '/touchpoints', auth(s.writer.token)) },
      },
    };
    const p0 = async (when: string) => {
      const f = await measure(`P0 GET / (bare Fastify, ${when})`, { url: `${hello.url}/`, connections });
      p0s.push(f);
      return f.reqPerSec;
    };
    let before = await p0('first');
    for (const run of runs) {
      results[run] = await measure(plans[run].label, plans[run].plan, sampled(run));
      const after = await p0(`after ${run.toUpperCase()}`);
      pairs[run] = { before, after, baseline: (before + after) / 2 };
      before = after;
    }
    hwmMb = (await memoryOf(service.pid))?.hwmMb ?? Number.NaN;
    helloHwmMb = (await memoryOf(hello.pid))?.hwmMb ?? Number.NaN;
  } catch (err) {
    process.stderr.write(`service output:\n${service.output()}\n`);
    throw err;
  } finally {
    rss.stop();
    await stats.close();
    await hello.stop();
    await service.stop();
    await db.drop();
    await own?.close();
    if (useRedis) await deleteRedisNamespace(redisUrl!, queuePrefix).catch(() => {});
  }

  const p0Mean = p0s.reduce((a, f) => a + f.reqPerSec, 0) / Math.max(1, p0s.length);
  const p0Spread = pct(Math.max(...p0s.map((f) => f.reqPerSec)) - Math.min(...p0s.map((f) => f.reqPerSec)), p0Mean);
  const ratio = (run: Run) => (results[run] && pairs[run] ? pct(results[run]!.reqPerSec, pairs[run]!.baseline) : null);
  /** A path's share of its ceiling's rate, each against its own P0 (the ceilings ran at other moments). */
  const ofCeiling = (run: Run) => {
    const c = CEILING_OF[run];
    const r = ratio(run);
    const rc = c ? ratio(c) : null;
    return r !== null && rc !== null ? pct(r, rc) : null;
  };
  log(`  P0 ${p0s.map((f) => fmt(f.reqPerSec, 0)).join(', ')} req/s (mean ${fmt(p0Mean, 0)}; spread ${fmt(p0Spread, 0)}% of the mean)`);
  log(
    `  server RSS: ${fmt(idleRssMb, 0)} MB after seeding, peak ${fmt(rss.max(), 0)} MB during the runs (VmHWM ${fmt(hwmMb, 0)} MB);` +
      ` the bare Fastify process peaked at ${fmt(helloHwmMb, 0)} MB (both run through the tsx loader)`,
  );
  for (const run of runs) {
    const f = results[run]!;
    const oc = ofCeiling(run);
    log(
      `  ${run.toUpperCase()}: ${fmt(f.reqPerSec, 0)} req/s = ${fmt(ratio(run), 1)}% of P0 (${fmt(pairs[run]!.baseline, 0)} req/s either side)` +
        `${oc !== null ? `, ${fmt(oc, 0)}% of ${CEILING_OF[run]!.toUpperCase()}` : ''}, p50 ${fmt(f.p50Ms, 1)} ms, p99 ${fmt(f.p99Ms, 1)} ms`,
    );
    if (f.non2xx + f.errors > 0) notes.push(`${run.toUpperCase()} had ${f.non2xx} responses ≥ 400 and ${f.errors} socket errors`);
  }
  if (p0Spread > 20)
    notes.push(
      `P0 varied by ${fmt(p0Spread, 0)}% of its mean during the bench: the machine was busy; each run is compared with the P0 runs next to it`,
    );
  const { p1, p2, p3 } = results;
  const targets = [
    ...(p1 ? [target('P1 req/s vs P0', ratio('p1'), '>=', 20, '%'), target('P1 p99 latency', p1.p99Ms, '<=', 25, 'ms')] : []),
    ...(p2 ? [target('P2 req/s vs P0', ratio('p2'), '>=', 10, '%')] : []),
    ...(p3 ? [target('P3 req/s vs P0', ratio('p3'), '>=', 10, '%'), target('P3 p99 latency', p3.p99Ms, '<=', 50, 'ms')] : []),
    target('npm start peak RSS during the runs', rss.max(), '<=', 200, 'MB'),
  ];
  printTargets(targets);
  for (const n of notes) log(`  note: ${n}`);
  const row = (what: string, run: Run) => {
    const f = results[run];
    const oc = ofCeiling(run);
    return f
      ? [
          {
            what,
            value: `${fmt(f.reqPerSec, 0)} (${fmt(f.p50Ms)}/${fmt(f.p99Ms)})`,
            baseline: fmt(pairs[run]!.baseline, 0),
            ratio: `${fmt(ratio(run), 1)}%${oc !== null ? ` (${fmt(oc, 0)}% of ${CEILING_OF[run]!.toUpperCase()})` : ''}`,
          },
        ]
      : [];
  };
  const figure = (run: Run, extra: Record<string, unknown> = {}) =>
    results[run]
      ? {
          [run]: {
            ...results[run],
            p0: pairs[run],
            percentOfP0: ratio(run),
            percentOfCeiling: ofCeiling(run),
            perRequest: counts[run],
            ...extra,
          },
        }
      : {};
  return {
    bench: 'api',
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    figures: {
      loadGenerator: 'wrk -t2',
      connections,
      warmupSeconds: warmupSeconds(),
      seconds: benchSeconds(),
      backend: useRedis ? 'redis' : 'postgres',
      p0: { meanReqPerSec: p0Mean, spreadPercent: p0Spread, runs: p0s },
      ...figure('c1'),
      ...figure('p1'),
      ...figure('p2', { caseloadSize }),
      ...figure('c3', { caseloadSize }),
      ...figure('c4', { caseloadSize }),
      ...figure('c2'),
      ...figure('c5'),
      ...figure('p3'),
      rss: { idleAfterSeedMb: idleRssMb, peakDuringRunsMb: rss.max(), vmHwmMb: hwmMb, bareFastifyVmHwmMb: helloHwmMb },
      databaseSessions: waits,
      seedSeconds,
    },
    summary: [
      { what: 'P0 bare Fastify req/s (mean)', value: fmt(p0Mean, 0) },
      ...row('C1 Fastify + prepared read req/s', 'c1'),
      ...row('C3 Fastify + prepared caseload rows req/s', 'c3'),
      ...row('C4 the same rows as JSON from PostgreSQL req/s', 'c4'),
      ...row('C2 Fastify + autocommit insert req/s', 'c2'),
      ...row('C5 Fastify + minimal write transaction req/s', 'c5'),
      ...row('P1 GET case req/s (p50/p99 ms)', 'p1'),
      ...row('P2 caseload req/s (p50/p99 ms)', 'p2'),
      ...row('P3 log touchpoint req/s (p50/p99 ms)', 'p3'),
      { what: 'npm start peak RSS MB (VmHWM)', value: `${fmt(rss.max(), 0)} (${fmt(hwmMb, 0)})` },
    ],
    targets,
    notes,
  };
}

if (isMain(import.meta.url)) {
  installSignalCleanup();
  runApi()
    .catch((err) => {
      process.stderr.write(`bench api failed: ${(err as Error).stack ?? err}\n`);
    })
    .finally(() => runCleanups().finally(() => process.exit(0)));
}

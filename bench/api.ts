/**
 * API throughput against a bare Fastify hello-world measured in the same run.
 *
 *   P0  GET /                           bare Fastify, its own process (the baseline)
 *   P1  GET /v1/cases/{id}              intervener, 50 connections, rotating over their cases
 *   P2  GET /v1/me/caseload             intervener holding 15 active cases
 *   P3  POST /v1/cases/{id}/touchpoints unique Idempotency-Key each, inbound/outbound alternating
 *
 * The service is the real one (`node --import tsx src/cli.ts start`, OVERTURE_ROLE=all,
 * LOG_LEVEL=warn) in its own process; load comes from autocannon in this process over loopback.
 * Both servers stay up throughout; P0 is measured before P1 and after each run, and each run is
 * compared with the mean of the two P0 runs either side of it (the machine is shared and noisy).
 */
import { randomBytes } from 'node:crypto';
import type { Client, Request } from 'autocannon';
import { type BenchPostgres, openBenchPostgres } from './lib/db.js';
import { benchSeconds, envFlag, envNumber, installSignalCleanup, isMain, log, runCleanups, warmupSeconds } from './lib/env.js';
import { fmt, type LoadFigures, type LoadOptions, measure } from './lib/load.js';
import { memoryOf, RssSampler, startHello, startService } from './lib/process.js';
import { describeWaits, WaitSampler } from './lib/pgwait.js';
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
async function seed(base: string, adminToken: string, caseloadSize: number, writerCases: number): Promise<Seed> {
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

const RUNS = ['p1', 'p2', 'p3'] as const;
type Run = (typeof RUNS)[number];

/** BENCH_API_RUNS=p1 (or p1,p3 …) runs only those, e.g. for a CPU profile of one route. */
function selectedRuns(): Run[] {
  const raw = process.env['BENCH_API_RUNS'];
  if (!raw) return [...RUNS];
  const picked = raw.split(',').map((r) => r.trim().toLowerCase());
  return RUNS.filter((r) => picked.includes(r));
}

export async function runApi(pgs?: BenchPostgres): Promise<Section> {
  const started = Date.now();
  const connections = envNumber('BENCH_CONNECTIONS', 50);
  const caseloadSize = envNumber('BENCH_CASELOAD', 15);
  const useRedis = envFlag('BENCH_API_REDIS') && !!process.env['REDIS_URL'];
  const runs = selectedRuns();
  const notes: string[] = [];
  log(
    `\n== api: P0 bare Fastify vs ${runs.map((r) => r.toUpperCase()).join(', ')} on the service (${connections} connections, ${warmupSeconds()} s warm-up + ${benchSeconds()} s each)`,
  );
  log('  P0 is measured before the first run and after each one; each run is compared with the mean of the P0 runs either side of it');
  if (useRedis) {
    notes.push('queues on Redis (REDIS_URL passed to the service, which uses its default `{overture}` key prefix)');
    log(`  ${notes.at(-1)}`);
  }

  const own = pgs ? undefined : await openBenchPostgres();
  const postgres = pgs ?? own!;
  const db = await postgres.database('api');
  const adminToken = `ovt_${randomBytes(24).toString('base64url')}`;
  // Both processes stay up for the whole bench; each is idle while the other is measured.
  const hello = await startHello();
  const service = await startService({
    databaseUrl: db.url,
    adminToken,
    ...(useRedis ? { redisUrl: process.env['REDIS_URL']! } : {}),
  }).catch(async (err) => {
    await hello.stop();
    throw err;
  });
  const results: Partial<Record<Run, LoadFigures>> = {};
  const p0s: LoadFigures[] = [];
  const pairs: Partial<Record<Run, { before: number; after: number; baseline: number }>> = {};
  const waits: Partial<Record<Run, Record<string, number>>> = {};
  const rss = new RssSampler(service.pid);
  let seedSeconds = Number.NaN;
  let idleRssMb = Number.NaN;
  let hwmMb = Number.NaN;
  let helloHwmMb = Number.NaN;
  try {
    const t0 = Date.now();
    const s = await seed(service.url, adminToken, caseloadSize, connections);
    seedSeconds = (Date.now() - t0) / 1000;
    log(
      `  seeded through the API in ${fmt(seedSeconds)} s: ${s.reader.cases.length} active cases for the reader, ${s.writer.cases.length} for the writer`,
    );
    idleRssMb = (await memoryOf(service.pid))?.rssMb ?? Number.NaN;

    const readerAuth = { authorization: `Bearer ${s.reader.token}` };
    // What the service's database sessions do during each measured run.
    const sampler = new WaitSampler(db.url);
    const sampled = (run: Run) => ({
      beforeMeasured: async () => {
        rss.start();
        await sampler.start();
      },
      afterMeasured: async () => {
        rss.stop();
        waits[run] = await sampler.stop();
        log(`    its database sessions, mean per sample: ${describeWaits(waits[run]!)}`);
      },
    });
    const runTag = randomBytes(4).toString('hex');
    let round = 0;
    const plans: Record<Run, { label: string; make: () => LoadOptions }> = {
      p1: {
        label: 'P1 GET /v1/cases/{id}',
        // Rotates over the reader's cases.
        make: () => ({
          url: service.url,
          connections,
          headers: readerAuth,
          requests: s.reader.cases.map((id): Request => ({ method: 'GET', path: `/v1/cases/${id}` })),
        }),
      },
      p2: {
        label: `P2 GET /v1/me/caseload (${caseloadSize} cases)`,
        make: () => ({ url: `${service.url}/v1/me/caseload`, connections, headers: readerAuth }),
      },
      p3: {
        label: 'P3 POST /v1/cases/{id}/touchpoints',
        // One case per connection (a person logs their own conversation); keys unique per request.
        make: () => {
          const tag = `${runTag}-${round++}`;
          let clientNo = 0;
          return {
            url: service.url,
            connections,
            setupClient: (client: Client) => {
              const me = clientNo++;
              const caseId = s.writer.cases[me % s.writer.cases.length]!;
              let n = 0;
              client.setRequests([
                {
                  method: 'POST',
                  path: `/v1/cases/${caseId}/touchpoints`,
                  setupRequest: (req) => {
                    const outbound = n % 2 === 0;
                    const key = `bench-${tag}-${me}-${n++}`;
                    const now = new Date().toISOString();
                    return {
                      ...req,
                      headers: { authorization: `Bearer ${s.writer.token}`, 'content-type': 'application/json', 'idempotency-key': key },
                      body: JSON.stringify(
                        outbound
                          ? { direction: 'outbound', channel: 'paid_message', occurredAt: now, approaches: ['empathetic'], costCents: 100 }
                          : { direction: 'inbound', channel: 'direct_message', occurredAt: now, sentiment: 'neutral' },
                      ),
                    };
                  },
                },
              ]);
            },
          };
        },
      },
    };
    const p0 = async (when: string) => {
      const f = await measure(`P0 GET / (bare Fastify, ${when})`, () => ({ url: `${hello.url}/`, connections }));
      p0s.push(f);
      return f.reqPerSec;
    };
    let before = await p0('first');
    for (const run of runs) {
      results[run] = await measure(plans[run].label, plans[run].make, sampled(run));
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
    await service.stop();
    await hello.stop();
    await db.drop();
    await own?.close();
  }

  const p0Mean = p0s.reduce((a, f) => a + f.reqPerSec, 0) / Math.max(1, p0s.length);
  const p0Spread = pct(Math.max(...p0s.map((f) => f.reqPerSec)) - Math.min(...p0s.map((f) => f.reqPerSec)), p0Mean);
  const ratio = (run: Run) => (results[run] && pairs[run] ? pct(results[run]!.reqPerSec, pairs[run]!.baseline) : null);
  log(`  P0 ${p0s.map((f) => fmt(f.reqPerSec, 0)).join(', ')} req/s (mean ${fmt(p0Mean, 0)}; spread ${fmt(p0Spread, 0)}% of the mean)`);
  log(
    `  server RSS: ${fmt(idleRssMb, 0)} MB after seeding, peak ${fmt(rss.max(), 0)} MB during the runs (VmHWM ${fmt(hwmMb, 0)} MB);` +
      ` the bare Fastify process peaked at ${fmt(helloHwmMb, 0)} MB (both run through the tsx loader)`,
  );
  for (const run of runs) {
    const f = results[run]!;
    log(
      `  ${run.toUpperCase()}: ${fmt(f.reqPerSec, 0)} req/s = ${fmt(ratio(run), 1)}% of P0 (${fmt(pairs[run]!.baseline, 0)} req/s either side), p50 ${fmt(f.p50Ms, 1)} ms, p99 ${fmt(f.p99Ms, 1)} ms`,
    );
    if (f.non2xx + f.errors > 0)
      notes.push(`${run.toUpperCase()} had ${f.non2xx} non-2xx responses and ${f.errors} errors: ${JSON.stringify(f.statusCodes)}`);
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
    target('server peak RSS during the runs', rss.max(), '<=', 200, 'MB'),
  ];
  printTargets(targets);
  for (const n of notes) log(`  note: ${n}`);
  const row = (what: string, run: Run) => {
    const f = results[run];
    return f
      ? [
          {
            what,
            value: `${fmt(f.reqPerSec, 0)} (${fmt(f.p50Ms)}/${fmt(f.p99Ms)})`,
            baseline: fmt(pairs[run]!.baseline, 0),
            ratio: `${fmt(ratio(run), 1)}%`,
          },
        ]
      : [];
  };
  return {
    bench: 'api',
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    figures: {
      connections,
      warmupSeconds: warmupSeconds(),
      seconds: benchSeconds(),
      queueBackend: useRedis ? 'redis' : 'postgres',
      p0: { meanReqPerSec: p0Mean, spreadPercent: p0Spread, runs: p0s },
      ...(p1 ? { p1: { ...p1, p0: pairs.p1, percentOfP0: ratio('p1') } } : {}),
      ...(p2 ? { p2: { ...p2, p0: pairs.p2, percentOfP0: ratio('p2'), caseloadSize } } : {}),
      ...(p3 ? { p3: { ...p3, p0: pairs.p3, percentOfP0: ratio('p3') } } : {}),
      rss: { idleAfterSeedMb: idleRssMb, peakDuringRunsMb: rss.max(), vmHwmMb: hwmMb, bareFastifyVmHwmMb: helloHwmMb },
      databaseSessions: waits,
      seedSeconds,
    },
    summary: [
      { what: 'P0 bare Fastify req/s (mean)', value: fmt(p0Mean, 0) },
      ...row('P1 GET case req/s (p50/p99 ms)', 'p1'),
      ...row('P2 caseload req/s (p50/p99 ms)', 'p2'),
      ...row('P3 log touchpoint req/s (p50/p99 ms)', 'p3'),
      { what: 'server peak RSS MB (VmHWM)', value: `${fmt(rss.max(), 0)} (${fmt(hwmMb, 0)})` },
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

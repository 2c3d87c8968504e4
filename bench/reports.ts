/**
 * Engagement report at volume: a program with BENCH_CASES cases (default 100,000) and ten
 * touchpoints per case (1,000,000), generated in bulk with SQL; the case stage columns are then
 * derived from those touchpoints with the rules deriveStage applies (checked on a sample).
 *
 * Times, in one run and interleaved, the 90-day report grouped by intervener and by approach from
 * the rollups (fromRollups + buildRows) and from the raw recount (fromRaw + buildRows), and one
 * incremental rollup pass after 10,000 cases changed (a new paid outbound message each).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createProgram } from '../src/domain/programs/service.js';
import { resolveSettings } from '../src/domain/programs/settings.js';
import type { Dimension } from '../src/domain/reports/contributions.js';
import { type Aggregates, buildRows, fromRaw, fromRollups, type Window } from '../src/domain/reports/engagement.js';
import { rollupAll } from '../src/domain/reports/rollup.js';
import { createStaff } from '../src/domain/staff/service.js';
import { deriveStage } from '../src/domain/touchpoints/stage.js';
import type { Db } from '../src/db/client.js';
import { type BenchPostgres, openBenchPostgres, openPool } from './lib/db.js';
import { envNumber, installSignalCleanup, isMain, log, runCleanups } from './lib/env.js';
import { fmt } from './lib/load.js';
import { percentile, printTargets, type Section, target } from './lib/report.js';

const DIMS: Dimension[] = ['intervener', 'approach'];

const APPROACH_SETS = [
  `{empathetic,nonjudgmental}`,
  `{empathetic}`,
  `{questioning}`,
  `{personal_story,empathetic}`,
  `{humour}`,
  `{informational}`,
  `{challenging}`,
  `{religious_argument,questioning}`,
];

interface GenOptions {
  cases: number;
  touchpoints: number;
  spanDays: number;
  interveners: string[];
  programId: string;
  loggedBy: string;
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  log(`  ${label}: ${fmt(seconds, 1)} s`);
  return { value, seconds };
}

/**
 * The stage columns, as deriveStage computes them, from each case's touchpoints (in occurredAt
 * order): contacted at the first outbound, responded at the first inbound after it, sustained at
 * the first touchpoint where the conversation since first contact has minMessages messages of
 * which minInbound inbound. `scope` limits it to some cases (a SQL condition on `c`).
 */
function deriveStageSql(programId: string, minMessages: number, minInbound: number, scope = 'true'): string {
  return `
    with t as (
      select tp.case_id, tp.occurred_at, tp.direction, tp.holder_id, tp.approaches, tp.cost_cents,
             row_number() over (partition by tp.case_id order by tp.occurred_at, tp.id) as rn
        from touchpoints tp join cases c on c.id = tp.case_id
       where c.program_id = '${programId}' and ${scope}
    ), first_out as (
      select distinct on (case_id) case_id, rn as first_rn, occurred_at as contacted_at, holder_id as contacted_by,
             coalesce(approaches, '{}') as approaches
        from t where direction = 'outbound' order by case_id, rn
    ), conv as (
      select t.*, f.first_rn,
             count(*) over w as msgs,
             count(*) filter (where t.direction = 'inbound') over w as inb
        from t join first_out f using (case_id)
       where t.rn >= f.first_rn
      window w as (partition by t.case_id order by t.rn rows between unbounded preceding and current row)
    ), resp as (
      select distinct on (case_id) case_id, occurred_at as responded_at, holder_id as responded_by
        from conv where direction = 'inbound' order by case_id, rn
    ), sust as (
      select distinct on (case_id) case_id, occurred_at as sustained_at, holder_id as sustained_by
        from conv where msgs >= ${minMessages} and inb >= ${minInbound} and inb >= 1 order by case_id, rn
    ), counts as (
      select case_id, count(*)::int as n, (count(*) filter (where direction = 'inbound'))::int as inbound,
             coalesce(sum(cost_cents) filter (where direction = 'outbound'), 0)::int as cost,
             max(occurred_at) as last_at,
             (array_agg(direction order by rn desc))[1] as last_dir
        from t group by case_id
    )
    update cases c set
      stage = (case when s.sustained_at is not null then 'sustained' when r.responded_at is not null then 'responded'
                    when f.contacted_at is not null then 'contacted' else 'none' end)::stage,
      contacted_at = f.contacted_at, contacted_by = f.contacted_by,
      responded_at = r.responded_at, responded_by = r.responded_by,
      sustained_at = s.sustained_at, sustained_by = s.sustained_by,
      first_outbound_approaches = f.approaches,
      touchpoint_count = k.n, inbound_count = k.inbound, outbound_cost_cents = k.cost,
      last_touchpoint_at = k.last_at, last_touchpoint_direction = k.last_dir,
      updated_at = now()
      from counts k
      left join first_out f using (case_id)
      left join resp r using (case_id)
      left join sust s using (case_id)
     where c.id = k.case_id`;
}

/** Cases, then touchpoints spread unevenly over the contacted ones, then the derived stage columns. */
async function generate(client: pg.PoolClient, o: GenOptions, rules: { minMessages: number; minInbound: number }) {
  const staffArray = `array[${o.interveners.map((id) => `'${id}'::uuid`).join(',')}]`;
  const k = o.interveners.length;
  await client.query(`select setseed(0.4242)`);
  await client.query(`create temp table gen on commit preserve rows as
    select i, gen_random_uuid() as id,
           date_trunc('second', now() - interval '1 hour' - random() * interval '${o.spanDays} days') as flagged_at,
           random() as u_status, random() as u_contact, random() as u_resp, random() as u_reassign, random() as u_close,
           random() as u_outcome, (${staffArray})[1 + floor(random() * ${k})::int] as h1,
           (${staffArray})[1 + floor(random() * ${k})::int] as h2,
           (array['far_right','islamist','other'])[1 + floor(random() * 3)::int] as ideology,
           (array['low','medium','high'])[1 + floor(random() * 3)::int] as risk,
           (array['facebook','x','instagram','youtube','tiktok','telegram','reddit','other'])[1 + floor(random() * 8)::int] as platform,
           1 + floor(random() * ${APPROACH_SETS.length})::int as approach_set
      from generate_series(1, ${o.cases}) i`);
  // 8% flagged, 4% rejected, 3% accepted, 3% approved, the rest assigned (30% of them closed);
  // 85% of assigned cases were contacted (they get the touchpoints); 10% were reassigned midway.
  await client.query(`insert into cases (id, program_id, status, ideology, risk_level, platform, indicators, assignee_id,
        flagged_at, accepted_at, approved_at, closed_at, outcome, created_at, updated_at)
      select g.id, '${o.programId}',
             (case when u_status < 0.08 then 'flagged' when u_status < 0.12 then 'rejected' when u_status < 0.15 then 'accepted'
                   when u_status < 0.18 then 'approved' when u_close < 0.3 then 'closed' else 'active' end)::case_status,
             ideology::ideology, risk::risk_level, platform::platform, '[]'::jsonb,
             case when u_status >= 0.18 then (case when u_reassign < 0.1 then h2 else h1 end) end,
             flagged_at,
             case when u_status >= 0.12 then flagged_at + interval '1 hour' end,
             case when u_status >= 0.15 then flagged_at + interval '2 hours' end,
             null, null, flagged_at, flagged_at
        from gen g`);
  await client.query(`create temp table contacted on commit preserve rows as
    select (row_number() over (order by i) - 1)::int as k, id, flagged_at, u_resp < 0.6 as responder,
           u_reassign < 0.1 as reassigned, h1, h2, approach_set
      from gen where u_status >= 0.18 and u_contact < 0.85`);
  await client.query(`create unique index on contacted (k)`);
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from contacted`);
  const contactedCount = rows[0]!.n;
  // Touchpoint t goes to contacted case floor(n * u^1.5): a few long conversations, many short ones.
  // Each case's j-th touchpoint sits at (j+1)/(count+1) of the way from its flagging to now.
  await client.query(`insert into touchpoints (id, case_id, program_id, direction, channel, occurred_at, approaches, sentiment,
        cost_cents, summary, logged_by, holder_id, awaiting_response, created_at)
      select gen_random_uuid(), c.id, '${o.programId}', x.dir::direction,
             (case when x.dir = 'outbound' and x.j = 0 then 'paid_message' else 'direct_message' end)::channel,
             c.flagged_at + (now() - interval '1 minute' - c.flagged_at) * (x.j + 1) / (x.n + 1),
             case when x.dir = 'outbound' and x.j = 0 then ('${`{${APPROACH_SETS.map((s) => `"${s}"`).join(',')}}`}'::text[])[c.approach_set]::text[] end,
             case when x.dir = 'inbound' then 'neutral'::sentiment end,
             case when x.dir = 'outbound' and x.j = 0 then 100 end,
             null, '${o.loggedBy}', case when c.reassigned and x.j >= x.n / 2 then c.h2 else c.h1 end, false,
             c.flagged_at + (now() - interval '1 minute' - c.flagged_at) * (x.j + 1) / (x.n + 1)
        from (
          select y.k, y.j, y.n, case when y.j > 0 and cc.responder and y.u < 0.45 then 'inbound' else 'outbound' end as dir
            from (select k, u, (row_number() over (partition by k order by t) - 1)::int as j, count(*) over (partition by k)::int as n
                    from (select t, least(${contactedCount - 1}, floor(${contactedCount} * power(random(), 1.5)))::int as k, random() as u
                            from generate_series(1, ${o.touchpoints}) t) s) y
            join contacted cc on cc.k = y.k
        ) x join contacted c on c.k = x.k`);
  await client.query(deriveStageSql(o.programId, rules.minMessages, rules.minInbound));
  // Closed cases: closed after their last message; sustained ones ended well more often.
  await client.query(`update cases c set closed_at = coalesce(c.last_touchpoint_at, c.approved_at) + interval '1 hour',
        outcome = (case when c.sustained_at is not null and g.u_outcome < 0.4 then 'positive_change'
                        when c.responded_at is null and c.contacted_at is not null then 'no_response'
                        else (array['disengaged','declined','referred','other'])[1 + floor(g.u_outcome * 4)::int] end)::outcome
      from gen g where g.id = c.id and c.status = 'closed'`);
  await client.query(`drop table gen; drop table contacted`);
  await client.query(`analyze cases; analyze touchpoints`);
  return { contactedCount };
}

/** The SQL derivation agrees with deriveStage on a random sample of cases. */
async function checkStageSample(db: Db, programId: string, rules: { minMessages: number; minInbound: number }, n = 300) {
  const pool = db.$client;
  const { rows: sample } = await pool.query<Record<string, unknown> & { id: string }>(
    `select id, stage, contacted_at, contacted_by, responded_at, responded_by, sustained_at, sustained_by, first_outbound_approaches,
            touchpoint_count, inbound_count, outbound_cost_cents, last_touchpoint_at, last_touchpoint_direction
       from cases where program_id = $1 and touchpoint_count > 0 order by random() limit $2`,
    [programId, n],
  );
  let mismatches = 0;
  for (const c of sample) {
    const { rows: tps } = await pool.query(
      `select direction, occurred_at as "occurredAt", holder_id as "holderId", approaches, cost_cents as "costCents"
         from touchpoints where case_id = $1 order by occurred_at, id`,
      [c.id],
    );
    const f = deriveStage(tps, rules);
    const same = (a: unknown, b: unknown) =>
      JSON.stringify(a instanceof Date ? a.getTime() : a) === JSON.stringify(b instanceof Date ? b.getTime() : b);
    const ok =
      same(f.stage, c['stage']) &&
      same(f.contactedAt, c['contacted_at']) &&
      same(f.contactedBy, c['contacted_by']) &&
      same(f.respondedAt, c['responded_at']) &&
      same(f.respondedBy, c['responded_by']) &&
      same(f.sustainedAt, c['sustained_at']) &&
      same(f.sustainedBy, c['sustained_by']) &&
      same(f.firstOutboundApproaches ?? [], c['first_outbound_approaches'] ?? []) &&
      f.touchpointCount === c['touchpoint_count'] &&
      f.inboundCount === c['inbound_count'] &&
      f.outboundCostCents === c['outbound_cost_cents'] &&
      same(f.lastTouchpointAt, c['last_touchpoint_at']) &&
      same(f.lastTouchpointDirection, c['last_touchpoint_direction']);
    if (!ok) mismatches++;
  }
  return { checked: sample.length, mismatches };
}

/** Rollup and raw give the same counts (and medians) for the window. */
function sameAggregates(a: Aggregates, b: Aggregates): boolean {
  const norm = (x: Aggregates) =>
    JSON.stringify({
      total: x.total,
      groups: [...x.groups.entries()].sort(([p], [q]) => p.localeCompare(q)),
      medians: [...x.medianSeconds.entries()].sort(([p], [q]) => p.localeCompare(q)).map(([k, v]) => [k, Math.round(v)]),
    });
  return norm(a) === norm(b);
}

async function rollupUntilClean(db: Db, programId: string) {
  let processed = 0;
  for (;;) {
    const r = await rollupAll(db, { programId, maxPasses: 1000 });
    processed += r.processed;
    if (r.processed === 0) return processed;
  }
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

export async function runReports(pgs?: BenchPostgres): Promise<Section> {
  const started = Date.now();
  const cases = Math.round(envNumber('BENCH_CASES', 100_000));
  const touchpointsPerCase = envNumber('BENCH_TOUCHPOINTS_PER_CASE', 10);
  const touchpoints = Math.round(cases * touchpointsPerCase);
  const spanDays = envNumber('BENCH_SPAN_DAYS', 365);
  const reps = Math.max(3, Math.round(envNumber('BENCH_REPS', 25)));
  const changed = Math.min(Math.round(envNumber('BENCH_CHANGED_CASES', 10_000)), Math.floor(cases / 2));
  const intervenerCount = Math.round(envNumber('BENCH_INTERVENERS', 40));
  log(
    `\n== reports: ${cases} cases, ${touchpoints} touchpoints over ${spanDays} days, ${intervenerCount} interveners; 90-day report × ${reps}`,
  );

  const own = pgs ? undefined : await openBenchPostgres();
  const postgres = pgs ?? own!;
  const database = await postgres.database('reports');
  const handle = openPool(database.url, 4);
  const db = handle.db;
  try {
    const program = await createProgram(db, { name: `Bench reports ${randomBytes(3).toString('hex')}` });
    const settings = resolveSettings(program.settings);
    const rules = { minMessages: settings.sustainedMinMessages, minInbound: settings.sustainedMinInbound };
    const lead = await createStaff(db, { programId: program.id, name: 'Bench lead', role: 'lead' });
    const interveners: string[] = [];
    for (let i = 0; i < intervenerCount; i++) {
      interveners.push((await createStaff(db, { programId: program.id, name: `Intervener ${i}`, role: 'intervener' })).id);
    }

    const client = await handle.pool.connect();
    let gen: { value: { contactedCount: number }; seconds: number };
    try {
      gen = await timed('generated cases, touchpoints and stage columns with SQL', () =>
        generate(client, { cases, touchpoints, spanDays, interveners, programId: program.id, loggedBy: lead.id }, rules),
      );
    } finally {
      client.release();
    }
    const { rows: funnel } = await handle.pool.query<{ stage: string; n: number }>(
      `select stage::text, count(*)::int as n from cases where program_id = $1 group by stage order by stage`,
      [program.id],
    );
    const { rows: tpCount } = await handle.pool.query<{ n: number }>(`select count(*)::int as n from touchpoints where program_id = $1`, [
      program.id,
    ]);
    log(`  stages: ${funnel.map((r) => `${r.stage} ${r.n}`).join(', ')}; touchpoints ${tpCount[0]!.n}`);
    const stageCheck = await checkStageSample(db, program.id, rules);
    log(`  stage columns vs deriveStage on ${stageCheck.checked} sampled cases: ${stageCheck.mismatches} mismatches`);

    const initial = await timed('initial rollup of every case (rollupAll until clean)', () => rollupUntilClean(db, program.id));
    // What autovacuum does after a bulk load in service (on by default, and in the embedded server);
    // these machines' own PostgreSQL runs with it off. Without it the planner has no statistics and
    // the medians' index-only scan visits a heap page per row (bench/RESULTS.md, issue 20 §8).
    await timed('vacuum (analyze) of the rollup tables, as autovacuum would', () =>
      handle.pool.query('vacuum (analyze) engagement_rollup, engagement_response, engagement_events'),
    );

    const today = new Date();
    const to = utcDay(new Date(today.getTime() + 86_400_000));
    const from = utcDay(new Date(today.getTime() - 89 * 86_400_000));
    const w: Window = { programId: program.id, from, to };
    const { rows: cohort } = await handle.pool.query<{ n: number }>(
      `select count(*)::int as n from cases where program_id = $1 and flagged_at >= $2::date and flagged_at < $3::date`,
      [program.id, from, to],
    );
    log(`  window [${from}, ${to}): ${cohort[0]!.n} cases flagged in it`);

    const equal: Record<string, boolean> = {};
    for (const dim of DIMS) equal[dim] = sameAggregates(await fromRollups(db, w, dim), await fromRaw(db, w, dim));
    log(`  rollup = raw recount: ${DIMS.map((d) => `${d} ${equal[d] ? 'yes' : 'NO'}`).join(', ')}`);

    // Interleaved so both paths see the same machine; the first two rounds are warm-up.
    const samples: Record<string, { rollup: number[]; raw: number[]; groups: number }> = {};
    for (const dim of DIMS) samples[dim] = { rollup: [], raw: [], groups: 0 };
    for (let rep = -2; rep < reps; rep++) {
      for (const dim of DIMS) {
        const s = samples[dim]!;
        let t0 = performance.now();
        const rows = buildRows(await fromRollups(db, w, dim), settings, dim);
        const rollupMs = performance.now() - t0;
        t0 = performance.now();
        buildRows(await fromRaw(db, w, dim), settings, dim);
        const rawMs = performance.now() - t0;
        if (rep >= 0) {
          s.rollup.push(rollupMs);
          s.raw.push(rawMs);
          s.groups = rows.length - 1;
        }
      }
    }
    const timing: Record<
      string,
      { groups: number; rollup: { p50: number; p95: number }; raw: { p50: number; p95: number }; speedupP50: number; speedupP95: number }
    > = {};
    for (const dim of DIMS) {
      const s = samples[dim]!;
      const r = { p50: percentile(s.rollup, 50), p95: percentile(s.rollup, 95) };
      const q = { p50: percentile(s.raw, 50), p95: percentile(s.raw, 95) };
      timing[dim] = { groups: s.groups, rollup: r, raw: q, speedupP50: q.p50 / r.p50, speedupP95: q.p95 / r.p95 };
      log(
        `  groupBy=${dim.padEnd(10)} (${s.groups} groups)  rollup p50 ${fmt(r.p50, 1)} ms p95 ${fmt(r.p95, 1)} ms   raw p50 ${fmt(q.p50, 1)} ms p95 ${fmt(q.p95, 1)} ms   raw/rollup ${fmt(q.p50 / r.p50, 1)}× (p50) ${fmt(q.p95 / r.p95, 1)}× (p95)`,
      );
    }

    // 10,000 cases get a new paid outbound message: their cost and stage columns change, the trigger marks them dirty.
    const { rows: picked } = await handle.pool.query<{ id: string }>(
      `select id from cases where program_id = $1 and status = 'active' and touchpoint_count > 0 order by random() limit $2`,
      [program.id, changed],
    );
    const ids = picked.map((r) => r.id);
    const change = await timed(`${ids.length} new touchpoints and their cases' stage columns`, async () => {
      await handle.pool.query(
        `insert into touchpoints (id, case_id, program_id, direction, channel, occurred_at, approaches, cost_cents, logged_by, holder_id, created_at)
           select gen_random_uuid(), c.id, c.program_id, 'outbound', 'paid_message', now(), '{empathetic}', 100, $2, c.assignee_id, now()
             from cases c where c.id = any($1::uuid[])`,
        [ids, lead.id],
      );
      await handle.pool.query(
        deriveStageSql(
          program.id,
          rules.minMessages,
          rules.minInbound,
          `c.id = any(array[${ids.map((id) => `'${id}'`).join(',') || 'null'}]::uuid[])`,
        ),
      );
    });
    const { rows: dirty } = await handle.pool.query<{ n: number }>(`select count(*)::int as n from rollup_dirty where program_id = $1`, [
      program.id,
    ]);
    const incremental = await timed(`incremental rollup pass over ${dirty[0]!.n} dirty cases`, () => rollupUntilClean(db, program.id));
    const equalAfter: Record<string, boolean> = {};
    for (const dim of DIMS) equalAfter[dim] = sameAggregates(await fromRollups(db, w, dim), await fromRaw(db, w, dim));
    log(`  rollup = raw recount after the incremental pass: ${DIMS.map((d) => `${d} ${equalAfter[d] ? 'yes' : 'NO'}`).join(', ')}`);

    const targets = DIMS.flatMap((dim) => [
      target(`report groupBy=${dim} from rollups p95`, timing[dim]!.rollup.p95, '<=', 50, 'ms'),
      target(`report groupBy=${dim} raw/rollup p95`, timing[dim]!.speedupP95, '>=', 50, '×'),
    ]);
    printTargets(targets);
    const notes: string[] = [];
    if (stageCheck.mismatches > 0) notes.push(`${stageCheck.mismatches} of ${stageCheck.checked} sampled cases disagree with deriveStage`);
    for (const dim of DIMS) {
      if (!equal[dim] || !equalAfter[dim]) notes.push(`rollup and raw recount differ for groupBy=${dim}`);
    }
    for (const n of notes) log(`  note: ${n}`);
    return {
      bench: 'reports',
      startedAt: new Date(started).toISOString(),
      seconds: (Date.now() - started) / 1000,
      figures: {
        cases,
        touchpoints: tpCount[0]!.n,
        contactedCases: gen.value.contactedCount,
        spanDays,
        interveners: intervenerCount,
        window: { from, to, cases: cohort[0]!.n },
        stages: Object.fromEntries(funnel.map((r) => [r.stage, r.n])),
        stageCheck,
        generateSeconds: gen.seconds,
        initialRollup: { cases: initial.value, seconds: initial.seconds },
        repetitions: reps,
        report: timing,
        rollupEqualsRaw: { before: equal, afterIncremental: equalAfter },
        incremental: {
          changedCases: ids.length,
          dirty: dirty[0]!.n,
          changeSeconds: change.seconds,
          rollupSeconds: incremental.seconds,
          processed: incremental.value,
        },
      },
      summary: [
        ...DIMS.map((dim) => ({
          what: `report ${dim} p95 ms: rollup (raw)`,
          value: fmt(timing[dim]!.rollup.p95, 1),
          baseline: fmt(timing[dim]!.raw.p95, 1),
          ratio: `${fmt(timing[dim]!.speedupP95, 1)}× faster`,
        })),
        { what: `incremental rollup, ${dirty[0]!.n} dirty cases`, value: `${fmt(incremental.seconds, 2)} s` },
        { what: `initial rollup, ${initial.value} cases`, value: `${fmt(initial.seconds, 1)} s` },
      ],
      targets,
      notes,
    };
  } finally {
    await handle.close();
    await database.drop();
    await own?.close();
  }
}

if (isMain(import.meta.url)) {
  installSignalCleanup();
  runReports()
    .catch((err) => {
      process.stderr.write(`bench reports failed: ${(err as Error).stack ?? err}\n`);
    })
    .finally(() => runCleanups().finally(() => process.exit(0)));
}

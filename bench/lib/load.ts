import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchSeconds, log, warmupSeconds } from './env.js';

/**
 * Load comes from wrk (Debian's `wrk` package: `apt-get install wrk`), a C load generator in its
 * own process: two threads, so the generator is not a Node process competing with the servers it
 * measures on the same event loop (autocannon, used before, topped out below the bare Fastify's rate).
 */
export const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => existsSync(p));

export interface LoadFigures {
  /** Requests completed ÷ measured seconds. */
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  seconds: number;
  connections: number;
  /** Responses with a status of 400 or more (wrk's `errors.status`). */
  non2xx: number;
  /** Connect, read, write and timeout errors. */
  errors: number;
}

/**
 * One load plan: a base URL and a wrk Lua script body. The script may define `request()` (and
 * use the global `tid`, 0 or 1, the wrk thread it runs on, and `tag`, unique per run); the
 * reporting `done()` is appended here.
 */
export interface LoadPlan {
  url: string;
  connections?: number;
  /** Lua run in each wrk thread before `request` is called. */
  lua?: string;
}

const DONE_LUA = `
local nextTid = 0
function setup(thread)
  thread:set("tid", nextTid)
  thread:set("tag", WRK_TAG)
  nextTid = nextTid + 1
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"status":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;

let runSeq = 0;

async function wrk(plan: LoadPlan, seconds: number): Promise<LoadFigures> {
  if (!WRK) throw new Error('wrk is not installed (apt-get install wrk)');
  const connections = plan.connections ?? 50;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-wrk-'));
  try {
    const script = path.join(dir, 'plan.lua');
    const tag = `${process.pid.toString(36)}${Date.now().toString(36)}${(runSeq++).toString(36)}`;
    await writeFile(script, `WRK_TAG = "${tag}"\n${plan.lua ?? ''}\n${DONE_LUA}`);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        WRK,
        ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, plan.url],
        { maxBuffer: 1 << 20, timeout: (seconds + 30) * 1000 },
        (err, stdout, stderr) => (err ? reject(new Error(`wrk failed: ${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const line = /WRKJSON (\{.*\})/.exec(out)?.[1];
    if (!line) throw new Error(`wrk printed no figures:\n${out}`);
    const j = JSON.parse(line) as Record<string, number>;
    const secs = j['durationUs']! / 1e6;
    return {
      reqPerSec: j['requests']! / secs,
      p50Ms: j['p50']! / 1000,
      p90Ms: j['p90']! / 1000,
      p99Ms: j['p99']! / 1000,
      maxMs: j['max']! / 1000,
      requests: j['requests']!,
      seconds: secs,
      connections,
      non2xx: j['status']!,
      errors: j['errors']!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Warm-up (BENCH_WARMUP_SECONDS, discarded), then one measured run of BENCH_SECONDS from wrk over
 * loopback. Each wrk run gets its own `tag`, so idempotency keys never repeat across runs.
 */
export async function measure(
  label: string,
  plan: LoadPlan,
  hooks: { beforeMeasured?: () => unknown; afterMeasured?: (f: LoadFigures) => unknown } = {},
): Promise<LoadFigures> {
  const warm = warmupSeconds();
  if (warm > 0) await wrk(plan, warm);
  await hooks.beforeMeasured?.();
  let f: LoadFigures;
  try {
    f = await wrk(plan, benchSeconds());
  } catch (err) {
    await hooks.afterMeasured?.({} as LoadFigures);
    throw err;
  }
  const bad = f.non2xx + f.errors;
  log(
    `  ${label.padEnd(40)} ${fmt(f.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(f.p50Ms, 1)} ms  p99 ${fmt(f.p99Ms, 1)} ms` +
      `  (${f.requests} requests, ${f.connections} connections${bad ? `, ${f.non2xx} non-2xx, ${f.errors} errors` : ''})`,
  );
  await hooks.afterMeasured?.(f);
  return f;
}

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

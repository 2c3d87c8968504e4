import autocannon, { type Options, type Result } from 'autocannon';
import { benchSeconds, log, warmupSeconds } from './env.js';

export interface LoadFigures {
  /** Mean of autocannon's per-second request counts over the measured run. */
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  seconds: number;
  connections: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

function figures(r: Result, connections: number): LoadFigures {
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(s.count);
  return {
    reqPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: r.requests.total,
    seconds: r.duration,
    connections,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}

export type LoadOptions = Omit<Options, 'duration' | 'connections'> & { connections?: number };

/**
 * Warm-up (BENCH_WARMUP_SECONDS, discarded), then one measured run of BENCH_SECONDS, from this
 * process over loopback. The options object is built fresh for each run by `make`, so per-run
 * counters (idempotency keys) never repeat.
 */
export async function measure(
  label: string,
  make: () => LoadOptions,
  hooks: { beforeMeasured?: () => unknown; afterMeasured?: () => unknown } = {},
): Promise<LoadFigures> {
  const warm = warmupSeconds();
  if (warm > 0) {
    const o = make();
    await autocannon({ ...o, connections: o.connections ?? 50, duration: warm });
  }
  const o = make();
  const connections = o.connections ?? 50;
  await hooks.beforeMeasured?.();
  let result: Result;
  try {
    result = await autocannon({ ...o, connections, duration: benchSeconds() });
  } catch (err) {
    await hooks.afterMeasured?.();
    throw err;
  }
  const f = figures(result, connections);
  const bad = f.non2xx + f.errors;
  log(
    `  ${label.padEnd(34)} ${fmt(f.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(f.p50Ms, 1)} ms  p99 ${fmt(f.p99Ms, 1)} ms` +
      `  (${f.requests} requests, ${connections} connections${bad ? `, ${f.non2xx} non-2xx, ${f.errors} errors ${JSON.stringify(f.statusCodes)}` : ''})`,
  );
  await hooks.afterMeasured?.();
  return f;
}

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

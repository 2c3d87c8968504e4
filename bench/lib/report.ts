import { log } from './env.js';
import { fmt } from './load.js';

export interface Target {
  /** e.g. "P1 req/s vs P0". */
  name: string;
  /** What was measured (null: could not be measured). */
  measured: number | null;
  op: '>=' | '<=';
  threshold: number;
  unit: string;
  pass: boolean;
}

export function target(name: string, measured: number | null | undefined, op: '>=' | '<=', threshold: number, unit: string): Target {
  const m = measured ?? null;
  const pass = m !== null && Number.isFinite(m) && (op === '>=' ? m >= threshold : m <= threshold);
  return { name, measured: m, op, threshold, unit, pass };
}

/** One bench's output: its figures (free-form, for JSON), summary rows, targets and notes. */
export interface Section {
  bench: 'api' | 'reports' | 'queue';
  startedAt: string;
  seconds: number;
  figures: Record<string, unknown>;
  /** Short rows for the final summary table. */
  summary: { what: string; value: string; baseline?: string; ratio?: string }[];
  targets: Target[];
  notes: string[];
}

const withUnit = (v: string, unit: string) => (unit === '×' ? `${v}×` : `${v} ${unit}`);
const show = (t: Target) => withUnit(t.measured === null ? 'n/a' : fmt(t.measured, 1), t.unit);

export function describeTarget(t: Target): string {
  const thr = `${t.op} ${withUnit(String(t.threshold), t.unit)}`;
  return `${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${show(t)} (target ${thr})`;
}

export function printTargets(targets: Target[]): void {
  if (targets.length === 0) return;
  log('  targets:');
  for (const t of targets) log(`    ${describeTarget(t)}`);
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function pct(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : Number.NaN;
}

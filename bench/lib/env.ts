import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib → ..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A positive number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

export function envFlag(name: string): boolean {
  const raw = (process.env[name] ?? '').trim().toLowerCase();
  return raw !== '' && raw !== '0' && raw !== 'false' && raw !== 'no';
}

/** Seconds of each measured load run (BENCH_SECONDS, default 10). */
export const benchSeconds = () => envNumber('BENCH_SECONDS', 10);
/** Seconds of warm-up before each measured load run (BENCH_WARMUP_SECONDS, default 3). */
export const warmupSeconds = () => envNumber('BENCH_WARMUP_SECONDS', 3);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when this module is the script node was asked to run (so bench files also run alone). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const self = fileURLToPath(metaUrl);
  return path.resolve(entry) === self || path.resolve(entry) === self.replace(/\.ts$/, '');
}

/** Callbacks run once on exit, error or Ctrl-C: servers stopped, databases dropped, keys deleted. */
const cleanups: { name: string; fn: () => Promise<unknown> }[] = [];
export function onCleanup(name: string, fn: () => Promise<unknown>): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    try {
      await c.fn();
    } catch (err) {
      process.stderr.write(`bench: cleanup "${c.name}" failed: ${(err as Error).message}\n`);
    }
  }
}

/** Ctrl-C during a bench still stops the child servers and drops the bench databases (a second one forces). */
export function installSignalCleanup(): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, cleaning up (again to force)\n`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

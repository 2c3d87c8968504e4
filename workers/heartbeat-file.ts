import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'bullmq';
import { ping } from '../src/db/client.js';
import type { WorkerDeps } from './types.js';

/** Written every HEARTBEAT_EVERY_MS while the workers run and reach their backends. */
export const HEARTBEAT_EVERY_MS = 10_000;
/** `overture health` calls a worker unhealthy once its heartbeat is older than this. */
export const HEARTBEAT_STALE_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * A fixed file in the process's own temporary directory: in a container the healthcheck runs
 * beside the worker and finds it there (TMPDIR moves it, e.g. for tests).
 */
export const heartbeatFile = () => path.join(tmpdir(), 'overture-worker.heartbeat');

export interface Heartbeat {
  pid: number;
  /** Epoch milliseconds of the last successful check. */
  at: number;
}

export async function readHeartbeat(file = heartbeatFile()): Promise<Heartbeat | undefined> {
  try {
    const beat = JSON.parse(await readFile(file, 'utf8')) as Partial<Heartbeat>;
    return typeof beat.at === 'number' && typeof beat.pid === 'number' ? { pid: beat.pid, at: beat.at } : undefined;
  } catch {
    return undefined;
  }
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('probe timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** True only while every worker's loop runs and both the queue backend and the database answer now. */
async function workersHealthy(deps: WorkerDeps, workers: Worker[]): Promise<boolean> {
  if (workers.length === 0 || !workers.every((w) => w.isRunning() && !w.isPaused() && !w.closing)) return false;
  try {
    const [queue] = await within(PROBE_TIMEOUT_MS, Promise.all([deps.queues.health(), ping(deps.db)]));
    return queue === 'ok';
  } catch {
    return false;
  }
}

/**
 * Checks the workers every HEARTBEAT_EVERY_MS and, when they are healthy, records the time in the
 * heartbeat file (written aside and renamed, so a reader never sees half of it). beat() checks now
 * (sharing a check under way) and says whether it wrote; stop() removes the file.
 */
export function startHeartbeat(
  deps: WorkerDeps,
  workers: Worker[],
  file = heartbeatFile(),
): { beat(): Promise<boolean>; stop(): Promise<void> } {
  let current: Promise<boolean> | undefined;
  let warned = false;
  let stopped = false;
  const check = async (): Promise<boolean> => {
    try {
      if (!(await workersHealthy(deps, workers))) {
        if (!warned)
          deps.logger.warn('workers are not running or cannot reach the queue backend or the database: no heartbeat until they do');
        warned = true;
        return false;
      }
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ pid: process.pid, at: Date.now() } satisfies Heartbeat));
      // A beat that was under way when stop() ran must not bring the file back.
      if (stopped) {
        await rm(tmp, { force: true });
        return false;
      }
      await rename(tmp, file);
      warned = false;
      return true;
    } catch (err) {
      deps.logger.warn({ err }, 'could not write the worker heartbeat');
      return false;
    }
  };
  const beat = () => {
    if (stopped) return Promise.resolve(false);
    current ??= check().finally(() => {
      current = undefined;
    });
    return current;
  };
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
      await rm(file, { force: true });
    },
  };
}

import type { Db } from '../../db/client.js';
import type { Clock } from '../clock.js';
import { type FiredDue, fireDueInOneStatementBatch } from '../followups/store.js';

interface Waiting {
  followUpId: string;
  version: number;
  resolve: (fired: FiredDue | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for due follow-ups: the reminders worker runs many jobs at once, and each due one
 * is a statement that commits (a WAL flush). Jobs arriving while a batch is in flight wait for
 * the next one, which fires them all in one statement and one commit; at low load a batch is a
 * single follow-up (no added latency). Each job still gets its own answer (fired, or undefined
 * for the general path) and does its own enqueueing; a failed batch fails each of its jobs
 * (BullMQ retries them). The same follow-up twice (a job delivered twice) goes in two batches.
 */
export class DueBatcher {
  private queue: Waiting[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly maxBatch = 200,
  ) {}

  fire(followUpId: string, version: number): Promise<FiredDue | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ followUpId, version, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Waiting[] = [];
        const ids = new Set<string>();
        const later: Waiting[] = [];
        for (const w of this.queue) {
          if (batch.length < this.maxBatch && !ids.has(w.followUpId)) {
            ids.add(w.followUpId);
            batch.push(w);
          } else later.push(w);
        }
        this.queue = later;
        try {
          const fired = await fireDueInOneStatementBatch(this.db, batch, this.clock.now());
          for (const w of batch) w.resolve(fired.get(w.followUpId));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

const batchers = new WeakMap<Db, DueBatcher>();

/** One batcher per database handle (a worker process has one). */
export function dueBatcher(db: Db, clock: Clock): DueBatcher {
  let b = batchers.get(db);
  if (!b) {
    b = new DueBatcher(db, clock);
    batchers.set(db, b);
  }
  return b;
}

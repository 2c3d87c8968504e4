import type { Db } from '../../db/client.js';
import { GroupCommit } from '../../group-commit.js';
import type { Clock } from '../clock.js';
import { type FiredDue, fireDueInOneStatementBatch } from '../followups/store.js';

interface Due {
  followUpId: string;
  version: number;
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
  private readonly group: GroupCommit<Due, FiredDue | undefined>;

  constructor(db: Db, clock: Clock, maxBatch = 200) {
    this.group = new GroupCommit(
      async (batch) => {
        const fired = await fireDueInOneStatementBatch(db, batch, clock.now());
        return batch.map((d) => fired.get(d.followUpId));
      },
      // Two batches at once: one forms and commits while the other waits for its WAL flush (one at a
      // time capped a worker at maxBatch per statement round trip; bench/RESULTS.md, issue 20 §8).
      // A follow-up in both (a job delivered twice) is locked by one and found fired by the other.
      { maxBatch, key: (d) => d.followUpId, inFlight: 2 },
    );
  }

  fire(followUpId: string, version: number): Promise<FiredDue | undefined> {
    return this.group.submit({ followUpId, version });
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

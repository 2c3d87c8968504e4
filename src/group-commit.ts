interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions<T> {
  /** A batch holds at most this much (counted with `size`, one per item by default). */
  maxBatch: number;
  /** How much of `maxBatch` an item takes (an audit call may carry several entries). */
  size?: (item: T) => number;
  /** Items with the same key never share a batch: the later one waits for the next. */
  key?: (item: T) => string;
  /**
   * Batches committing at once (default 1). With 2, the next batch forms and commits while the
   * previous one waits for its commit, on another connection: the throughput of one batch at a
   * time is maxBatch ÷ (statement + WAL flush), whatever the load. Two in-flight batches may hold
   * the same key; `commit` must then be safe to run concurrently for it (row locks taken in order).
   */
  inFlight?: number;
}

/**
 * Group commit: callers arriving while a batch is in flight (or `inFlight` batches) wait for the next one, which
 * commits them all at once (one statement, one WAL flush). At low load a batch is a
 * single item, so nothing waits for company. `commit` answers each item of its batch, in order;
 * when it throws, every caller of that batch is rejected with the error (and retries or falls
 * back as it would have on its own). Used for read audits
 * (audit/batcher.ts) and due follow-ups (reminders/due-batch.ts).
 */
export class GroupCommit<T, R> {
  private queue: Waiting<T, R>[] = [];
  private running = 0;

  constructor(
    private readonly commit: (items: T[]) => Promise<readonly R[]>,
    private readonly opts: GroupCommitOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running < (this.opts.inFlight ?? 1)) void this.flush();
    });
  }

  private next(): Waiting<T, R>[] {
    const { maxBatch, size = () => 1, key } = this.opts;
    const batch: Waiting<T, R>[] = [];
    const later: Waiting<T, R>[] = [];
    const keys = new Set<string>();
    let used = 0;
    for (const w of this.queue) {
      const k = key?.(w.item);
      if (used < maxBatch && (k === undefined || !keys.has(k))) {
        if (k !== undefined) keys.add(k);
        batch.push(w);
        used += size(w.item);
      } else later.push(w);
    }
    this.queue = later;
    return batch;
  }

  private async flush(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const batch = this.next();
        try {
          const results = await this.commit(batch.map((w) => w.item));
          for (const [i, w] of batch.entries()) w.resolve(results[i] as R);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.running--;
    }
  }
}

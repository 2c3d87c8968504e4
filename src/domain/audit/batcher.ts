import type { Db } from '../../db/client.js';
import type { Clock } from '../clock.js';
import { type AuditEvent, appendAudit } from './log.js';

interface Pending {
  events: AuditEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for read audits: entries from concurrent requests are appended to the chain in one
 * transaction; each caller's promise settles when its entry is durable. At low load a batch is a
 * single entry (no added latency); under load, one chain lock serves many reads.
 */
export class AuditBatcher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly maxBatch = 500,
  ) {}

  record(events: AuditEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let size = 0;
        while (this.queue.length > 0 && size < this.maxBatch) {
          const p = this.queue.shift()!;
          batch.push(p);
          size += p.events.length;
        }
        try {
          // One multi-row INSERT is its own transaction: no BEGIN/COMMIT round trips.
          await appendAudit(
            this.db,
            batch.flatMap((p) => p.events),
            this.clock.now(),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

import type { Db } from '../../db/client.js';
import { GroupCommit } from '../../group-commit.js';
import type { Clock } from '../clock.js';
import { type AuditEvent, appendAudit } from './log.js';

/**
 * Group commit for read audits: entries from concurrent requests are appended to the chain in one
 * transaction; each caller's promise settles when its entry is durable. At low load a batch is a
 * single entry (no added latency); under load, one chain lock serves many reads.
 */
export class AuditBatcher {
  private readonly group: GroupCommit<AuditEvent[], void>;

  constructor(db: Db, clock: Clock, maxBatch = 500) {
    this.group = new GroupCommit<AuditEvent[], void>(
      async (calls) => {
        // One multi-row INSERT is its own transaction: no BEGIN/COMMIT round trips.
        await appendAudit(db, calls.flat(), clock.now());
        return [];
      },
      { maxBatch, size: (events) => events.length },
    );
  }

  record(events: AuditEvent[]): Promise<void> {
    return this.group.submit(events);
  }
}

import type { Clock } from './clock.js';
import type { AuditEvent } from './audit/log.js';
import type { Principal } from './staff/principal.js';

/** Jobs to enqueue once the transaction that made them necessary has committed. */
export interface JobRequest {
  queue: string;
  name: string;
  payload: Record<string, unknown>;
  /** Deterministic (no `:`): a replayed request schedules the same job, not a second one. */
  jobId?: string;
  delayMs?: number;
}

/** What a domain operation needs to know about its caller and the world. */
export interface Ctx {
  principal: Principal;
  requestId: string | null;
  clock: Clock;
  secret: string;
  /** Filled by domain code, drained by the caller after commit. */
  jobs: JobRequest[];
  /** Audits a read: resolves once the entry is durable (group-committed with other reads). */
  recordRead(events: AuditEvent[]): Promise<void>;
}

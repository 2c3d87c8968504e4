import type { JobName, Payload, QueueName } from '../queue/jobs.js';
import type { AuditEvent } from './audit/log.js';
import type { Clock } from './clock.js';
import type { Principal } from './staff/principal.js';

/** One job of one queue, checked against the job map: its name belongs to that queue, its payload is that job's. */
type JobIn<Q extends QueueName> = {
  [J in JobName<Q>]: {
    queue: Q;
    name: J;
    payload: Payload<Q, J>;
    /** Deterministic (no `:`): a replayed request schedules the same job, not a second one. */
    jobId?: string;
    delayMs?: number;
    /**
     * Shared by many requests (an overdue sweep): this process adds it once until its delay has
     * passed, and again only if that add failed (queue/requests.ts).
     */
    once?: boolean;
  };
}[JobName<Q>];

/** A job to enqueue once the transaction that made it necessary has committed (a misspelt queue, name or payload does not compile). */
export type JobRequest<Q extends QueueName = QueueName> = Q extends QueueName ? JobIn<Q> : never;

/** What a domain operation needs to know about its caller and the world. */
export interface Ctx {
  principal: Principal;
  requestId: string | null;
  clock: Clock;
  secret: string;
  /** Filled by domain code, handed to the queue by `run` (unit-of-work.ts) after commit. */
  jobs: JobRequest[];
  /**
   * Records audit entries. `run` (unit-of-work.ts) makes them durable before it returns: in the
   * transaction of a `write`, group-committed with other reads otherwise. A use case that throws
   * leaves none.
   */
  audit(...events: AuditEvent[]): void;
}

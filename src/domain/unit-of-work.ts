import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { Statement } from '../db/prepared.js';
import { enqueueRequests } from '../queue/requests.js';
import type { QueueSystem } from '../queue/system.js';
import { AuditBatcher } from './audit/batcher.js';
import { type AuditEvent, appendAudit } from './audit/log.js';
import type { Clock } from './clock.js';
import type { Ctx, JobRequest } from './context.js';
import type { Principal } from './staff/principal.js';

/**
 * How a use case meets PostgreSQL:
 * - `write`: one transaction; its audit entries are appended in it, its jobs handed over after commit.
 * - `read`: no transaction (the prepared hot reads); its audit entries are group-committed and
 *   durable before `run` returns.
 * - `autocommit`: no transaction around the use case: each statement commits alone, or the use
 *   case opens its own (the reminders' one-statement fast paths); audits and jobs as for a read.
 */
export type UnitKind = 'read' | 'write' | 'autocommit';

type Transaction = Parameters<Parameters<Db['transaction']>[0]>[0];

/** What `run` needs from the process: the HTTP app's and the worker's deps both fit. */
export interface UnitDeps {
  db: Db;
  clock: Clock;
  secret: string;
  queues: Pick<QueueSystem, 'enqueue'>;
  logger: Logger;
}

/** A staff member acting, in a request (`requestId`) or a command. */
export interface Actor {
  principal: Principal;
  requestId: string | null;
}

/** A job acting on its own (reminders, scans): no caller, so no `Ctx` either. */
export const SYSTEM = { principal: null, requestId: null } as const;
export type SystemActor = typeof SYSTEM;

interface UnitBase<K extends UnitKind> {
  kind: K;
  /** The transaction of a `write`; the database itself otherwise. */
  tx: K extends 'write' ? Transaction : Db;
  clock: Clock;
  requestId: string | null;
  secret: string;
  /** Jobs asked for so far (domain code that takes a `Ctx` pushes here); handed over by `run`. */
  jobs: JobRequest[];
  /** Records an audit entry: in the transaction of a `write`, group-committed otherwise. */
  audit(...events: AuditEvent[]): void;
  /** Hands a job to the queue once the unit has committed; never, if it fails. */
  enqueue(...jobs: JobRequest[]): void;
  /**
   * A `write`'s last statement before COMMIT, run with its audit entries in one round trip (the
   * stored response of an idempotent request). At most one, and a plain statement (it runs as a
   * CTE, which cannot hold a data-modifying WITH of its own); other kinds have no transaction to end.
   */
  atCommit(statement: Statement): void;
}

/** A staff member's unit of work. It is a `Ctx`, so today's `(tx, ctx)` domain functions take it as it is. */
export interface Unit<K extends UnitKind = UnitKind> extends UnitBase<K>, Ctx {
  principal: Principal;
}

/** A job's unit of work. */
export interface SystemUnit<K extends UnitKind = UnitKind> extends UnitBase<K> {
  principal: null;
}

/** A staff member's unit for an `Actor`, a job's for `SYSTEM`. */
export type UnitOf<A extends Actor | SystemActor, K extends UnitKind> = A extends Actor ? Unit<K> : SystemUnit<K>;

const batchers = new WeakMap<UnitDeps, AuditBatcher>();
/** One batcher per app or worker (per process in production), so concurrent reads share a chain lock. */
function auditBatcher(deps: UnitDeps): AuditBatcher {
  let b = batchers.get(deps);
  if (!b) {
    b = new AuditBatcher(deps.db, deps.clock);
    batchers.set(deps, b);
  }
  return b;
}

/**
 * Runs one use case: opens the transaction (for a `write`), gives it `uow`, commits, makes its
 * audit durable and then hands its jobs to the queue (a queue outage never fails the caller: the
 * reconcile job finds what was not enqueued). A use case that throws leaves no audit entry of
 * its own and enqueues nothing.
 */
export async function run<A extends Actor | SystemActor, K extends UnitKind, T>(
  deps: UnitDeps,
  actor: A,
  kind: K,
  work: (uow: UnitOf<A, K>) => Promise<T>,
): Promise<T> {
  const audits: AuditEvent[] = [];
  const jobs: JobRequest[] = [];
  let last: Statement | undefined;
  // TypeScript cannot narrow `UnitOf<A, K>` from the values of `actor` and `kind`: one assertion here.
  const unit = (tx: Transaction | Db) =>
    ({
      kind,
      tx,
      principal: actor.principal,
      requestId: actor.requestId,
      clock: deps.clock,
      secret: deps.secret,
      jobs,
      audit: (...events: AuditEvent[]) => void audits.push(...events),
      enqueue: (...more: JobRequest[]) => void jobs.push(...more),
      atCommit: (statement: Statement) => {
        if (kind !== 'write') throw new Error(`atCommit: a ${kind} unit has no transaction to end`);
        if (last) throw new Error('atCommit: a unit ends with one statement');
        last = statement;
      },
    }) as UnitOf<A, K>;
  let result: T;
  if (kind === 'write') {
    result = await deps.db.transaction(async (tx) => {
      const value = await work(unit(tx));
      if (audits.length > 0 || last) await appendAudit(tx, audits.splice(0), deps.clock.now(), last);
      return value;
    });
  } else {
    result = await work(unit(deps.db));
    if (audits.length > 0) await auditBatcher(deps).record(audits.splice(0));
  }
  await enqueueRequests(deps.queues, deps.logger, jobs.splice(0));
  return result;
}

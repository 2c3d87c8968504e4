import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRequest } from '../src/domain/context.js';
import { DomainError } from '../src/domain/errors.js';
import type { Principal } from '../src/domain/staff/principal.js';
import { type Actor, run, SYSTEM, type UnitDeps } from '../src/domain/unit-of-work.js';
import { createLogger } from '../src/logger.js';
import { TEST_SECRET, TestClock } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

let db: TestDatabase;
/** What `run` handed to the queue, with whether the unit's audit entry was visible to another session at that moment. */
let handed: { job: JobRequest; auditVisible: boolean }[];
let queueDown = false;
let watchedAction = '';
let deps: UnitDeps;
const warnings: string[] = [];

const principal: Principal = { staffId: randomUUID(), tokenId: randomUUID(), role: 'lead', programId: randomUUID(), name: 'Lead' };
const actor: Actor = { principal, requestId: 'req-1' };

/** Counted on a connection of the pool, never the unit's own: what other sessions can see. */
async function audited(action: string): Promise<number> {
  const r = await db.pool.query<{ n: number }>('select count(*)::int as n from audit_log where action = $1', [action]);
  return r.rows[0]!.n;
}

const event = (action: string) => ({
  actorId: principal.staffId,
  action,
  targetType: 'case',
  targetId: randomUUID(),
  programId: principal.programId,
});
const job = (): JobRequest => ({ queue: 'webhooks', name: 'deliver', payload: { notificationId: randomUUID() } });

beforeAll(async () => {
  db = await createTestDatabase();
  const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void warnings.push(l) } });
  deps = {
    db: db.db,
    clock: new TestClock(new Date('2026-12-01T09:00:00Z')),
    secret: TEST_SECRET,
    logger,
    queues: {
      async enqueue(queue, name, payload) {
        if (queueDown) throw new Error('queue backend unavailable');
        handed.push({ job: { queue, name, payload } as JobRequest, auditVisible: (await audited(watchedAction)) > 0 });
      },
    },
  };
});

afterAll(async () => {
  await db?.close();
});

function watch(action: string) {
  handed = [];
  watchedAction = action;
  queueDown = false;
}

describe('run: a write', () => {
  it('runs in one transaction; its audit entry and its jobs appear only once it has committed', async () => {
    const action = `uow.write.${randomUUID()}`;
    watch(action);
    const asked = job();
    const result = await run(deps, actor, 'write', async (uow) => {
      expect(uow.tx).not.toBe(deps.db);
      uow.audit(event(action));
      uow.enqueue(asked);
      // Inside the unit nothing is visible or handed over yet.
      expect(await audited(action)).toBe(0);
      expect(handed).toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await audited(action)).toBe(1);
    // Handed over after the commit: the entry was already visible to another session.
    expect(handed).toEqual([{ job: asked, auditVisible: true }]);
  });

  it('a rollback leaves neither an audit entry nor an enqueued job', async () => {
    const action = `uow.rollback.${randomUUID()}`;
    watch(action);
    const failed = run(deps, actor, 'write', async (uow) => {
      uow.audit(event(action));
      uow.enqueue(job());
      // As today's (tx, ctx) domain functions do: push onto the Ctx's jobs.
      uow.jobs.push(job());
      await uow.tx.execute('select 1');
      throw new DomainError(409, 'test.conflict', 'refused');
    });
    await expect(failed).rejects.toMatchObject({ status: 409, code: 'test.conflict' });
    expect(await audited(action)).toBe(0);
    expect(handed).toEqual([]);
  });

  it('atCommit: its statement runs with the audit entries just before COMMIT, and rolls back with them', async () => {
    await db.pool.query('create table if not exists uow_at_commit (v text primary key)');
    const kept = (v: string) => db.pool.query('select 1 from uow_at_commit where v = $1', [v]).then((r) => r.rowCount);
    const insert = (v: string) => ({ name: 'test_uow_at_commit', text: 'insert into uow_at_commit (v) values ($1)', values: [v] });

    const action = `uow.atcommit.${randomUUID()}`;
    watch(action);
    const v = randomUUID();
    await run(deps, actor, 'write', async (uow) => {
      uow.audit(event(action), event(action));
      uow.atCommit(insert(v));
      // Not run yet: it waits for the end of the unit.
      expect(await uow.tx.execute(`select 1 from uow_at_commit where v = '${v}'`).then((r) => r.rowCount)).toBe(0);
    });
    expect(await kept(v)).toBe(1);
    expect(await audited(action)).toBe(2);

    // Without audit entries it runs alone.
    const alone = randomUUID();
    await run(deps, actor, 'write', async (uow) => uow.atCommit(insert(alone)));
    expect(await kept(alone)).toBe(1);

    // The statement fails (the value is taken): the audit entries go with it, and so does the write.
    const failed = `uow.atcommit.failed.${randomUUID()}`;
    watch(failed);
    await expect(
      run(deps, actor, 'write', async (uow) => {
        uow.audit(event(failed));
        uow.enqueue(job());
        uow.atCommit(insert(v));
      }),
    ).rejects.toThrow();
    expect(await audited(failed)).toBe(0);
    expect(handed).toEqual([]);

    // The work fails after asking for it: nothing runs.
    const never = randomUUID();
    await expect(
      run(deps, actor, 'write', async (uow) => {
        uow.atCommit(insert(never));
        throw new DomainError(409, 'test.conflict', 'refused');
      }),
    ).rejects.toMatchObject({ status: 409 });
    expect(await kept(never)).toBe(0);

    // One per unit, and only a write has a COMMIT to end.
    await expect(
      run(deps, actor, 'write', async (uow) => {
        uow.atCommit(insert(randomUUID()));
        uow.atCommit(insert(randomUUID()));
      }),
    ).rejects.toThrow(/one statement/);
    await expect(run(deps, actor, 'read', async (uow) => uow.atCommit(insert(randomUUID())))).rejects.toThrow(/no transaction/);
  });

  it('a job enqueued in a transaction that fails at the database is never handed to the queue', async () => {
    const action = `uow.dbfail.${randomUUID()}`;
    watch(action);
    const failed = run(deps, actor, 'write', async (uow) => {
      uow.enqueue(job());
      uow.audit(event(action));
      // A statement PostgreSQL refuses aborts the transaction.
      await uow.tx.execute('select 1/0');
    });
    await expect(failed).rejects.toThrow();
    expect(await audited(action)).toBe(0);
    expect(handed).toEqual([]);
  });

  it('is a Ctx: jobs a domain function pushes onto ctx.jobs are handed over after commit', async () => {
    watch('none');
    const asked = job();
    await run(deps, actor, 'write', async (uow) => {
      expect(uow.principal).toBe(principal);
      expect(uow.requestId).toBe('req-1');
      expect(uow.secret).toBe(TEST_SECRET);
      expect(uow.clock).toBe(deps.clock);
      uow.jobs.push(asked);
    });
    expect(handed.map((h) => h.job)).toEqual([asked]);
  });

  it('a queue outage never fails the unit: the write stays committed and the failure is logged', async () => {
    const action = `uow.outage.${randomUUID()}`;
    watch(action);
    queueDown = true;
    warnings.length = 0;
    await expect(
      run(deps, actor, 'write', async (uow) => {
        uow.audit(event(action));
        uow.enqueue(job());
        return 'committed';
      }),
    ).resolves.toBe('committed');
    expect(await audited(action)).toBe(1);
    expect(warnings.join('\n')).toContain('enqueue failed; reconcile will pick it up');
  });
});

describe('run: a read', () => {
  it('opens no transaction, and its audit entry is durable before run returns', async () => {
    const action = `uow.read.${randomUUID()}`;
    watch(action);
    const rows = await run(deps, actor, 'read', async (uow) => {
      expect(uow.tx).toBe(deps.db);
      uow.audit(event(action));
      return [1, 2];
    });
    expect(rows).toEqual([1, 2]);
    expect(await audited(action)).toBe(1);
  });

  it('a read that fails leaves no audit entry of its own and hands over no job', async () => {
    const action = `uow.readfail.${randomUUID()}`;
    watch(action);
    const failed = run(deps, actor, 'read', async (uow) => {
      uow.audit(event(action));
      uow.enqueue(job());
      throw new DomainError(404, 'case.not_found', 'No such case.');
    });
    await expect(failed).rejects.toMatchObject({ status: 404 });
    expect(await audited(action)).toBe(0);
    expect(handed).toEqual([]);
  });

  it('a read’s entries are group-committed after its work and durable once run resolves', async () => {
    const action = `uow.read.${randomUUID()}`;
    watch(action);
    await run(deps, actor, 'read', async (uow) => {
      uow.audit(event(action), event(action));
      expect(await audited(action)).toBe(0);
    });
    expect(await audited(action)).toBe(2);
  });
});

describe('run: a job acting on its own', () => {
  it('has no principal, runs on the database, and hands its jobs over once its work has returned', async () => {
    watch('none');
    const asked = job();
    const outcome = await run(deps, SYSTEM, 'autocommit', async (uow) => {
      expect(uow.principal).toBeNull();
      expect(uow.tx).toBe(deps.db);
      uow.enqueue(asked);
      expect(handed).toEqual([]);
      return 'fired';
    });
    expect(outcome).toBe('fired');
    expect(handed.map((h) => h.job)).toEqual([asked]);
  });
});

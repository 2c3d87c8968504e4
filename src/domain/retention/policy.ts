import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { eachProgram, type ProgramPart, type ProgramsOutcome } from '../programs/each.js';
import { ms } from '../programs/settings.js';
import { eraseCase } from './erase.js';

/**
 * Applies every program's retention: never-contacted cases (flagged, rejected, or no outbound
 * message) `retentionNeverContacted` after flagging, closed cases `retentionClosed` after closing.
 * Batched; cases are claimed with SKIP LOCKED, so two workers can run it at once. Each program
 * runs on its own: one that fails is in `programs.failed`, and the others' retention still runs.
 */
export async function applyRetention(db: Db, now: Date, batch = 200): Promise<{ erased: number; programs: ProgramsOutcome }> {
  let erased = 0;
  const programs = await eachProgram(db, async (program) => {
    erased += await retainProgram(db, program, now, batch);
  });
  return { erased, programs };
}

async function retainProgram(db: Db, program: ProgramPart, now: Date, batch: number): Promise<number> {
  // Milliseconds as parameters: exactly the spans the settings name, whatever the session's zone.
  const neverContactedBefore = sql`${now.toISOString()}::timestamptz - ${ms(program.settings, 'retentionNeverContacted')}::float8 * interval '1 millisecond'`;
  const closedBefore = sql`${now.toISOString()}::timestamptz - ${ms(program.settings, 'retentionClosed')}::float8 * interval '1 millisecond'`;
  let erased = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const due = await tx.execute<{ id: string }>(sql`
        select c.id from cases c
         where c.program_id = ${program.id} and c.erased_at is null and (
           (c.contacted_at is null and c.flagged_at <= ${neverContactedBefore})
           or (c.status = 'closed' and c.closed_at <= ${closedBefore}))
         order by c.id limit ${batch} for update of c skip locked`);
      let done = 0;
      for (const r of due.rows) {
        if (await eraseCase(tx, r.id, { now, actorId: null, reason: 'retention period elapsed', action: 'case.retention_erase' })) done++;
      }
      return due.rows.length === 0 ? -1 : done;
    });
    if (n < 0) return erased;
    erased += n;
  }
}

import type { Db } from '../../db/client.js';
import { type AuditEvent, appendAudit } from '../audit/log.js';
import { claimRetentionDue, heldRetentionDue } from '../cases/store.js';
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
  const cutoffs = {
    now,
    neverContactedMs: ms(program.settings, 'retentionNeverContacted'),
    closedMs: ms(program.settings, 'retentionClosed'),
  };
  let erased = 0;
  // A hold wins over retention: what it keeps is audited, each run, so the skip is on the record.
  await db.transaction(async (tx) => {
    const held = await heldRetentionDue(tx, program.id, cutoffs);
    if (held.length === 0) return;
    const entries: AuditEvent[] = held.map((caseId) => ({
      actorId: null,
      action: 'retention.skipped_hold',
      targetType: 'case',
      targetId: caseId,
      programId: program.id,
      caseId,
      requestId: null,
    }));
    await appendAudit(tx, entries, now);
  });
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const due = await claimRetentionDue(tx, program.id, cutoffs, batch);
      let done = 0;
      // A job has no unit of work per case: the batch's entries are appended in its own transaction.
      const entries: AuditEvent[] = [];
      const audit = (entry: AuditEvent) => void entries.push(entry);
      for (const id of due) {
        if (await eraseCase(tx, id, { now, actorId: null, reason: 'retention period elapsed', action: 'case.retention_erase', audit }))
          done++;
      }
      if (entries.length > 0) await appendAudit(tx, entries, now);
      return due.length === 0 ? -1 : done;
    });
    if (n < 0) return erased;
    erased += n;
  }
}

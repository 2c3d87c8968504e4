import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { staff } from '../../db/schema/index.js';

/** Reads of staff that other aggregates need (the staff use cases keep theirs in service.ts). */

export type StaffMember = typeof staff.$inferSelect;

export async function findStaffMember(tx: Tx, id: string): Promise<StaffMember | undefined> {
  const [row] = await tx.select().from(staff).where(eq(staff.id, id));
  return row;
}

/** Locks an intervener of the program: concurrent assignments to them serialise, so the cap holds. */
export async function lockIntervener(tx: Tx, id: string, programId: string): Promise<StaffMember | undefined> {
  const [row] = await tx
    .select()
    .from(staff)
    .where(and(eq(staff.id, id), eq(staff.programId, programId), eq(staff.role, 'intervener')))
    .for('update');
  return row;
}

/** Active leads of a program (and, for escalations, active admins). */
export async function activeLeadIds(tx: Tx, programId: string, withAdmins: boolean): Promise<string[]> {
  const rows = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(
      and(
        eq(staff.active, true),
        withAdmins
          ? or(and(eq(staff.programId, programId), eq(staff.role, 'lead')), and(isNull(staff.programId), eq(staff.role, 'admin')))
          : and(eq(staff.programId, programId), inArray(staff.role, ['lead'])),
      ),
    );
  return rows.map((r) => r.id);
}

/** Names of a program's staff by id, for reports a lead reads (leads may see staff names). */
export async function staffNames(tx: Tx, programId: string, ids: string[]): Promise<Map<string, string>> {
  const uuids = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (uuids.length === 0) return new Map();
  const rows = await tx
    .select({ id: staff.id, name: staff.name })
    .from(staff)
    .where(and(eq(staff.programId, programId), inArray(staff.id, uuids)));
  return new Map(rows.map((r) => [r.id, r.name]));
}

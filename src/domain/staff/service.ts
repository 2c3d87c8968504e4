import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { programs, staff } from '../../db/schema/index.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { Principal, Role } from './principal.js';
import { forgetPrincipals } from './tokens.js';

export type StaffRow = typeof staff.$inferSelect;

export interface StaffInput {
  programId?: string | null;
  name: string;
  role: Role;
  specialisms?: string[];
  languages?: string[];
  maxCaseload?: number | null;
}

export function toStaffView(row: StaffRow) {
  return {
    id: row.id,
    programId: row.programId,
    name: row.name,
    role: row.role,
    specialisms: row.specialisms,
    languages: row.languages,
    maxCaseload: row.maxCaseload,
    active: row.active,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const normaliseTags = (tags: string[] | undefined) => [...new Set((tags ?? []).map((t) => t.trim().toLowerCase()))];

export async function createStaff(db: Tx, input: StaffInput) {
  if (input.role === 'admin') {
    if (input.programId)
      throw invalid('staff.admin_has_no_program', 'Admins work across the deployment: leave programId out.', 'programId');
  } else {
    if (!input.programId) throw invalid('staff.program_required', 'Every non-admin belongs to a program.', 'programId');
    const [p] = await db.select({ id: programs.id }).from(programs).where(eq(programs.id, input.programId));
    if (!p) throw invalid('staff.unknown_program', 'No program has this id.', 'programId');
  }
  const [row] = await db
    .insert(staff)
    .values({
      id: uuidv7(),
      programId: input.role === 'admin' ? null : input.programId!,
      name: input.name,
      role: input.role,
      specialisms: normaliseTags(input.specialisms),
      languages: normaliseTags(input.languages),
      maxCaseload: input.maxCaseload ?? null,
    })
    .returning();
  return row!;
}

export async function getStaff(db: Tx, principal: Principal, id: string) {
  const [row] = await db.select().from(staff).where(eq(staff.id, id));
  if (!row || (principal.role !== 'admin' && row.programId !== principal.programId)) throw notFound('staff');
  return row;
}

export async function listStaff(
  db: Tx,
  principal: Principal,
  filter: { programId?: string; role?: Role; active?: boolean; limit: number; after?: string },
) {
  const where: SQL[] = [];
  if (principal.role !== 'admin') where.push(eq(staff.programId, principal.programId!));
  if (filter.programId) where.push(eq(staff.programId, filter.programId));
  if (filter.role) where.push(eq(staff.role, filter.role));
  if (filter.active !== undefined) where.push(eq(staff.active, filter.active));
  if (filter.after) where.push(gt(staff.id, filter.after));
  return db
    .select()
    .from(staff)
    .where(and(...where))
    .orderBy(asc(staff.id))
    .limit(filter.limit + 1);
}

export async function updateStaff(
  db: Tx,
  principal: Principal,
  id: string,
  patch: Partial<Pick<StaffInput, 'name' | 'specialisms' | 'languages' | 'maxCaseload'>> & { active?: boolean },
) {
  const row = await db.transaction(async (tx) => {
    const before = await getStaff(tx, principal, id);
    if (patch.active === false && before.role === 'admin') await refuseLastAdmin(tx, id);
    const [updated] = await tx
      .update(staff)
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.specialisms !== undefined ? { specialisms: normaliseTags(patch.specialisms) } : {}),
        ...(patch.languages !== undefined ? { languages: normaliseTags(patch.languages) } : {}),
        ...(patch.maxCaseload !== undefined ? { maxCaseload: patch.maxCaseload } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
        version: sql`${staff.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(staff.id, id))
      .returning();
    return updated!;
  });
  // After the commit: a lookup in between could otherwise remember the holder as still active.
  forgetPrincipals();
  return row;
}

/**
 * Refuses to deactivate the deployment's last active admin. Every active admin row is locked (in
 * id order, so two of these never deadlock): a concurrent deactivation waits, then re-reads the
 * rows it locked and no longer counts the admin the other one deactivated.
 */
async function refuseLastAdmin(tx: Tx, id: string) {
  const admins = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.role, 'admin'), eq(staff.active, true)))
    .orderBy(asc(staff.id))
    .for('update');
  if (admins.some((a) => a.id === id) && !admins.some((a) => a.id !== id)) {
    throw conflict('staff.last_admin', 'This is the last active admin: make another admin first.');
  }
}

import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { activeCaseIdsOf } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { conflict, invalid, notFound } from '../errors.js';
import { notify } from '../notifications/notify.js';
import { programExists } from '../programs/store.js';
import { webhookJobs } from '../reminders/jobs.js';
import type { Ideology } from '../vocabulary.js';
import type { Principal, Role } from './principal.js';
import { activeLeadIds, findStaffMember, insertStaff, listStaffRows, lockActiveAdmins, type StaffRow, updateStaffRow } from './store.js';
import { forgetPrincipals } from './tokens.js';

export type { StaffRow } from './store.js';

export interface StaffInput {
  programId?: string | null;
  name: string;
  role: Role;
  specialisms?: string[];
  languages?: string[];
  maxCaseload?: number | null;
  /** Ideologies whose cases they opted out of (welfare). */
  avoid?: Ideology[];
}

/** `avoid` is welfare data: shown to the program's leads (and, through /v1/me/welfare, the person), never to admins. */
export function toStaffView(row: StaffRow, viewer?: { role: Role }) {
  return {
    id: row.id,
    programId: row.programId,
    name: row.name,
    role: row.role,
    specialisms: row.specialisms,
    languages: row.languages,
    maxCaseload: row.maxCaseload,
    ...(viewer?.role === 'lead' ? { avoid: row.avoid as Ideology[] } : {}),
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
    if (!(await programExists(db, input.programId))) throw invalid('staff.unknown_program', 'No program has this id.', 'programId');
  }
  return insertStaff(db, {
    id: uuidv7(),
    programId: input.role === 'admin' ? null : input.programId!,
    name: input.name,
    role: input.role,
    specialisms: normaliseTags(input.specialisms),
    languages: normaliseTags(input.languages),
    maxCaseload: input.maxCaseload ?? null,
    avoid: [...new Set(input.avoid ?? [])],
  });
}

export async function getStaff(db: Tx, principal: Principal, id: string) {
  const row = await findStaffMember(db, id);
  if (!row || (principal.role !== 'admin' && row.programId !== principal.programId)) throw notFound('staff');
  return row;
}

export async function listStaff(
  db: Tx,
  principal: Principal,
  filter: { programId?: string; role?: Role; active?: boolean; limit: number; after?: string },
) {
  // Staff of a program see only their program's staff.
  const programId = principal.role === 'admin' ? filter.programId : principal.programId!;
  if (filter.programId && programId !== filter.programId) return [];
  return listStaffRows(db, { ...filter, ...(programId ? { programId } : {}) });
}

export async function updateStaff(
  db: Tx,
  ctx: Ctx,
  id: string,
  patch: Partial<Pick<StaffInput, 'name' | 'specialisms' | 'languages' | 'maxCaseload' | 'avoid'>> & { active?: boolean },
) {
  const principal = ctx.principal;
  const row = await db.transaction(async (tx) => {
    const before = await getStaff(tx, principal, id);
    if (patch.active === false && before.role === 'admin') await refuseLastAdmin(tx, id);
    const updated = await updateStaffRow(tx, id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.specialisms !== undefined ? { specialisms: normaliseTags(patch.specialisms) } : {}),
      ...(patch.languages !== undefined ? { languages: normaliseTags(patch.languages) } : {}),
      ...(patch.maxCaseload !== undefined ? { maxCaseload: patch.maxCaseload } : {}),
      ...(patch.avoid !== undefined ? { avoid: [...new Set(patch.avoid)] } : {}),
      ...(patch.active !== undefined ? { active: patch.active } : {}),
    });
    if (patch.active === false && before.active && before.programId) await announceOrphans(tx, ctx, updated!);
    return updated!;
  });
  // After the commit: a lookup in between could otherwise remember the holder as still active.
  forgetPrincipals();
  return row;
}

/**
 * A deactivated intervener's active cases are orphaned until a lead hands them over: every lead
 * of the program is told (once per deactivation), and meanwhile the holder's notifications go to
 * them (notifications/notify.ts).
 */
async function announceOrphans(tx: Tx, ctx: Ctx, holder: StaffRow) {
  const held = await activeCaseIdsOf(tx, holder.id);
  if (held.length === 0 || !holder.programId) return;
  const ids = await notify(tx, await activeLeadIds(tx, holder.programId, false), {
    kind: 'caseload_orphaned',
    programId: holder.programId,
    caseId: null,
    subjectId: holder.id,
    occurrence: `${holder.id}/v${holder.version}`,
  });
  ctx.jobs.push(...(await webhookJobs(tx, holder.programId, ids)));
}

/**
 * Refuses to deactivate the deployment's last active admin. Every active admin row is locked (in
 * id order, so two of these never deadlock): a concurrent deactivation waits, then re-reads the
 * rows it locked and no longer counts the admin the other one deactivated.
 */
async function refuseLastAdmin(tx: Tx, id: string) {
  const admins = await lockActiveAdmins(tx);
  if (admins.includes(id) && !admins.some((a) => a !== id)) {
    throw conflict('staff.last_admin', 'This is the last active admin: make another admin first.');
  }
}

/** PUT /v1/me/avoid: an intervener opts out of (or back into) the cases of some ideologies. */
export async function setOwnAvoid(tx: Tx, ctx: Ctx, avoid: Ideology[]): Promise<Ideology[]> {
  const p = ctx.principal;
  const row = await updateStaffRow(tx, p.staffId, { avoid: [...new Set(avoid)] });
  if (!row) throw notFound('staff');
  ctx.audit({
    actorId: p.staffId,
    action: 'staff.avoid',
    targetType: 'staff',
    targetId: p.staffId,
    programId: p.programId,
    requestId: ctx.requestId,
  });
  return row.avoid as Ideology[];
}

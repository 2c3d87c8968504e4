import type { Tx } from '../../db/client.js';
import { createStaff } from './service.js';
import { findStaffMember, oldestActiveAdmin } from './store.js';
import { createToken } from './tokens.js';

/** What the operator asked `overture token create` for: an admin's token, or a given staff member's. */
export type OperatorTokenRequest = { admin: true; name?: string; label: string } | { admin: false; staffId: string; label: string };

export type OperatorToken =
  | { outcome: 'issued'; staffId: string; token: string; admin?: { created: boolean; name: string } }
  | { outcome: 'no_such_staff'; staffId: string }
  | { outcome: 'deactivated'; staffId: string };

/**
 * The operator's token (the CLI, with database access and no principal). For an admin it reuses
 * the active admin (the oldest, or the one named) and creates one through createStaff only when
 * there is none, so running it twice does not leave two admins.
 */
export async function issueOperatorToken(db: Tx, secret: string, req: OperatorTokenRequest): Promise<OperatorToken> {
  let staffId: string;
  let admin: { created: boolean; name: string } | undefined;
  if (req.admin) {
    const existing = await oldestActiveAdmin(db, req.name);
    if (existing) {
      staffId = existing.id;
      admin = { created: false, name: existing.name };
    } else {
      const name = req.name ?? 'admin';
      staffId = (await createStaff(db, { name, role: 'admin', programId: null })).id;
      admin = { created: true, name };
    }
  } else {
    staffId = req.staffId;
    const row = await findStaffMember(db, staffId);
    if (!row) return { outcome: 'no_such_staff', staffId };
    if (!row.active) return { outcome: 'deactivated', staffId };
  }
  const { token } = await createToken(db, secret, staffId, req.label);
  return { outcome: 'issued', staffId, token, ...(admin ? { admin } : {}) };
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { xactLock } from '../../db/locks.js';
import { RecentCache } from '../../recent-cache.js';
import { notFound } from '../errors.js';
import type { Principal } from './principal.js';
import { anyAdminExists, insertStaff, insertToken, revokeTokenRow, tokenHolder, touchToken } from './store.js';

export const TOKEN_PATTERN = /^ovt_[A-Za-z0-9_-]{32,}$/;

export function generateToken(): string {
  return `ovt_${randomBytes(32).toString('base64url')}`;
}

/** Keyed with the server secret, so a leaked table cannot be brute-forced offline. */
export function hashToken(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('hex');
}

export async function createToken(db: Tx, secret: string, staffId: string, label: string, token = generateToken()) {
  const id = uuidv7();
  await insertToken(db, { id, staffId, label, tokenHash: hashToken(secret, token) });
  return { id, token };
}

export async function revokeToken(db: Tx, tokenId: string, now: Date) {
  if ((await revokeTokenRow(db, tokenId, now)) === 'missing') throw notFound('token');
  forgetPrincipals();
}

/**
 * Who a valid token belongs to, remembered for AUTH_CACHE_MS so a client's burst of requests does
 * not look its token up each time. A change in this process (revoke, deactivate, edit) forgets
 * them all at once, once it is written; another process's change is seen within
 * AUTH_CACHE_MS. Unknown and refused tokens are never remembered.
 */
export const AUTH_CACHE_MS = 2_000;
const known = new RecentCache<Principal>(AUTH_CACHE_MS, 10_000);

/** Called by every change to staff or tokens. */
export function forgetPrincipals(): void {
  known.forget();
}

/** Resolves a bearer token to its active holder; undefined for anything not valid right now. */
export async function authenticate(db: Tx, secret: string, token: string): Promise<Principal | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const hash = hashToken(secret, token);
  return known.remember(hash, async () => {
    const rows = await tokenHolder(db).execute({ hash });
    const row = rows[0];
    if (!row || !timingSafeEqual(Buffer.from(row.tokenHash), Buffer.from(hash))) return undefined;
    // Last use is recorded at minute precision, so a busy token does not write on every request.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await touchToken(db, row.tokenId);
    }
    return Object.freeze({
      tokenId: row.tokenId,
      staffId: row.staffId,
      role: row.role,
      programId: row.programId,
      name: row.name,
    });
  });
}

/** OVERTURE_BOOTSTRAP_ADMIN_TOKEN: the first admin, created only while no admin exists. */
export async function bootstrapAdmin(db: Tx, secret: string, token: string): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(xactLock('bootstrapAdmin'));
    if (await anyAdminExists(tx)) return undefined;
    const id = uuidv7();
    await insertStaff(tx, { id, name: 'admin', role: 'admin', programId: null });
    await createToken(tx, secret, id, 'bootstrap', token);
    return id;
  });
}

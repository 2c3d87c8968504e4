import { createHmac, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lte } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { apiTokens, boardSessions, staff } from '../../db/schema/index.js';
import type { Principal } from './principal.js';

/**
 * One hour, absolute (never extended by use): long enough for a sitting at the queue board during
 * an incident, short enough that a cookie left in a shared or stolen browser soon stops working.
 */
export const BOARD_SESSION_MS = 60 * 60_000;

/** 32 random bytes in base64url: what a session cookie must look like before it is looked up. */
export const BOARD_SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Keyed with the server secret like tokens: the table alone never yields a usable cookie. */
export function hashBoardSessionId(secret: string, id: string): string {
  return createHmac('sha256', secret).update(id).digest('hex');
}

/** Starts a session for an admin signed in with a token; expired sessions are deleted on the way. */
export async function startBoardSession(db: Tx, secret: string, principal: Principal, now: Date) {
  const id = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + BOARD_SESSION_MS);
  await db.delete(boardSessions).where(lte(boardSessions.expiresAt, now));
  await db.insert(boardSessions).values({
    idHash: hashBoardSessionId(secret, id),
    staffId: principal.staffId,
    tokenId: principal.tokenId,
    createdAt: now,
    expiresAt,
  });
  return { id, expiresAt };
}

/**
 * The admin a session belongs to, checked on every request (never remembered): undefined once it
 * has expired, its token is revoked, or its holder is deactivated or no longer an admin.
 */
export async function boardSessionHolder(db: Tx, secret: string, id: string, now: Date): Promise<string | undefined> {
  if (!BOARD_SESSION_ID.test(id)) return undefined;
  const [row] = await db
    .select({ staffId: staff.id })
    .from(boardSessions)
    .innerJoin(apiTokens, and(eq(apiTokens.id, boardSessions.tokenId), eq(apiTokens.staffId, boardSessions.staffId)))
    .innerJoin(staff, eq(staff.id, boardSessions.staffId))
    .where(
      and(
        eq(boardSessions.idHash, hashBoardSessionId(secret, id)),
        gt(boardSessions.expiresAt, now),
        isNull(apiTokens.revokedAt),
        eq(staff.active, true),
        eq(staff.role, 'admin'),
      ),
    );
  return row?.staffId;
}

export async function endBoardSession(db: Tx, secret: string, id: string) {
  if (!BOARD_SESSION_ID.test(id)) return;
  await db.delete(boardSessions).where(eq(boardSessions.idHash, hashBoardSessionId(secret, id)));
}

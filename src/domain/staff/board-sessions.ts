import { createHmac, randomBytes } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import type { Principal } from './principal.js';
import { boardSessionAdmin, deleteBoardSession, insertBoardSession } from './store.js';

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
  await insertBoardSession(db, {
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
  return boardSessionAdmin(db, hashBoardSessionId(secret, id), now);
}

export async function endBoardSession(db: Tx, secret: string, id: string) {
  if (!BOARD_SESSION_ID.test(id)) return;
  await deleteBoardSession(db, hashBoardSessionId(secret, id));
}

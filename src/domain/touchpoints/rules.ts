import type { Principal } from '../staff/principal.js';

/** How long the person who logged a touchpoint may void it themselves; after that, a lead. */
export const VOID_WINDOW_MS = 7 * 86_400_000;

/** Why a caller who can see a touchpoint may not void it; null when they may. */
export type VoidRefusal = 'role' | 'not_logger' | 'window_closed' | null;

/**
 * Who may mark a touchpoint as logged in error: a lead of the program (scope is the caller's
 * business, in SQL), or the intervener who logged it, within VOID_WINDOW_MS of logging it
 * (`createdAt`, not `occurredAt`: a message logged late is as fresh a mistake as any).
 */
export function voidRefusal(p: Pick<Principal, 'role' | 'staffId'>, t: { loggedBy: string; createdAt: Date }, now: Date): VoidRefusal {
  if (p.role === 'lead') return null;
  if (p.role !== 'intervener') return 'role';
  if (t.loggedBy !== p.staffId) return 'not_logger';
  if (now.getTime() - t.createdAt.getTime() > VOID_WINDOW_MS) return 'window_closed';
  return null;
}

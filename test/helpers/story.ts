import { and, eq, sql } from 'drizzle-orm';
import { auditLog } from '../../src/db/schema/index.js';
import type { TestApp } from './app.js';
import type { Who } from './cast.js';

/** Drives the API through the usual steps, failing loudly on anything unexpected. */
export async function call(
  t: TestApp,
  who: Pick<Who, 'auth'>,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await t.app.inject({
    method,
    url,
    headers: { ...who.auth, ...headers },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return res;
}

export async function ok<T = Record<string, unknown>>(
  t: TestApp,
  who: Pick<Who, 'auth'>,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await call(t, who, method, url, payload, headers);
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
  return res.json() as T;
}

let counter = 0;
export function flagBody(programId: string, extra: Record<string, unknown> = {}) {
  counter++;
  return {
    programId,
    profile: { platform: 'x', handle: `@P${counter.toString(36)}_${Math.random().toString(36).slice(2, 10)}`, language: 'en' },
    ideology: 'far_right',
    riskLevel: 'medium',
    indicators: [{ kind: 'shares_propaganda', evidenceUrl: 'https://example.org/post/1', note: 'reposted a manifesto' }],
    ...extra,
  };
}

/** A case flagged, accepted, approved and assigned: status active, held by `intervener`. */
export async function activeCase(
  t: TestApp,
  lead: Pick<Who, 'auth'>,
  programId: string,
  intervenerId: string,
  extra: Record<string, unknown> = {},
) {
  const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId, extra));
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/approve`, {});
  return ok<{ id: string; status: string; assigneeId: string; version: number }>(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, {
    intervenerId,
  });
}

/** Audit entries of one action by one actor. */
export async function auditCount(t: TestApp, action: string, actorId: string): Promise<number> {
  const [r] = await t.db.db
    .select({ n: sql<number>`count(*)::int` })
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.actorId, actorId)));
  return r!.n;
}

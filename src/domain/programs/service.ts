import { randomBytes } from 'node:crypto';
import { asc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { programs } from '../../db/schema/index.js';
import { DomainError, notFound } from '../errors.js';
import type { Principal } from '../staff/principal.js';
import { type ProgramSettings, resolveSettings } from './settings.js';

export type ProgramRow = typeof programs.$inferSelect;

export interface ProgramView {
  id: string;
  name: string;
  settings: ProgramSettings;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** Present only in the response that set a new staffWebhookUrl. */
  webhookSecret?: string;
}

export function toProgramView(row: ProgramRow, webhookSecret?: string): ProgramView {
  return {
    id: row.id,
    name: row.name,
    settings: resolveSettings(row.settings),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(webhookSecret ? { webhookSecret } : {}),
  };
}

/** The Standard Webhooks form: `whsec_` + base64 of 32 random bytes (those bytes key the `v1` signature). */
const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export async function createProgram(db: Tx, input: { name: string; settings?: Partial<ProgramSettings> }) {
  const settings = input.settings ?? {};
  const secret = settings.staffWebhookUrl ? newWebhookSecret() : null;
  const [row] = await db.insert(programs).values({ id: uuidv7(), name: input.name, settings, webhookSecret: secret }).returning();
  return toProgramView(row!, secret ?? undefined);
}

/** Admins see every program; anyone else only their own. */
function visible(principal: Principal, programId: string) {
  return principal.role === 'admin' || principal.programId === programId;
}

export async function getProgram(db: Tx, principal: Principal, id: string): Promise<ProgramRow> {
  if (!visible(principal, id)) throw notFound('program');
  const [row] = await db.select().from(programs).where(eq(programs.id, id));
  if (!row) throw notFound('program');
  return row;
}

export async function listPrograms(db: Tx, principal: Principal, page: { limit: number; after?: string }) {
  const conditions = [];
  if (principal.role !== 'admin') conditions.push(eq(programs.id, principal.programId ?? '00000000-0000-0000-0000-000000000000'));
  if (page.after) conditions.push(gt(programs.id, page.after));
  const rows = await db
    .select()
    .from(programs)
    .where(conditions.length ? sql.join(conditions, sql` and `) : undefined)
    .orderBy(asc(programs.id))
    .limit(page.limit + 1);
  return rows;
}

export async function updateProgram(
  db: Tx,
  principal: Principal,
  id: string,
  /** If-Match, applied to the version found. */
  expected: (version: number) => boolean,
  patch: { name?: string; settings?: Partial<ProgramSettings> },
) {
  const current = await getProgram(db, principal, id);
  if (!expected(current.version)) {
    throw new DomainError(412, 'precondition.failed', 'The program changed since you read it; fetch it again.', {
      currentVersion: current.version,
    });
  }
  const settings = { ...current.settings, ...(patch.settings ?? {}) };
  const urlChanged =
    patch.settings && 'staffWebhookUrl' in patch.settings && patch.settings.staffWebhookUrl !== current.settings['staffWebhookUrl'];
  const secret = urlChanged && patch.settings?.staffWebhookUrl ? newWebhookSecret() : undefined;
  const [row] = await db
    .update(programs)
    .set({
      name: patch.name ?? current.name,
      settings,
      ...(urlChanged ? { webhookSecret: secret ?? null } : {}),
      version: sql`${programs.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(sql`${programs.id} = ${id} and ${programs.version} = ${current.version}`)
    .returning();
  if (!row) throw new DomainError(412, 'precondition.failed', 'The program changed since you read it; fetch it again.');
  return toProgramView(row, secret);
}

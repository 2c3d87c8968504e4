import { randomBytes } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { DomainError, notFound } from '../errors.js';
import type { Principal } from '../staff/principal.js';
import { type ProgramSettings, resolveSettings } from './settings.js';
import { findProgram, insertProgram, listProgramRows, type ProgramRow, updateProgramRow } from './store.js';

export type { ProgramRow } from './store.js';

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
  const row = await insertProgram(db, { id: uuidv7(), name: input.name, settings, webhookSecret: secret });
  return toProgramView(row, secret ?? undefined);
}

/** Admins see every program; anyone else only their own. */
function visible(principal: Principal, programId: string) {
  return principal.role === 'admin' || principal.programId === programId;
}

export async function getProgram(db: Tx, principal: Principal, id: string): Promise<ProgramRow> {
  if (!visible(principal, id)) throw notFound('program');
  const row = await findProgram(db, id);
  if (!row) throw notFound('program');
  return row;
}

export async function listPrograms(db: Tx, principal: Principal, page: { limit: number; after?: string }) {
  return listProgramRows(db, {
    ...(principal.role === 'admin' ? {} : { only: principal.programId ?? '00000000-0000-0000-0000-000000000000' }),
    limit: page.limit,
    ...(page.after ? { after: page.after } : {}),
  });
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
  const row = await updateProgramRow(db, id, current.version, {
    name: patch.name ?? current.name,
    settings,
    ...(urlChanged ? { webhookSecret: secret ?? null } : {}),
  });
  if (!row) throw new DomainError(412, 'precondition.failed', 'The program changed since you read it; fetch it again.');
  return toProgramView(row, secret);
}

import { randomBytes } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { DomainError, notFound } from '../errors.js';
import type { Principal } from '../staff/principal.js';
import { forgetSettings, type ProgramSettings, resolveSettings } from './settings.js';
import {
  findProgram,
  insertProgram,
  insertSettingsChange,
  listProgramRows,
  listSettingsChanges,
  type ProgramRow,
  updateProgramRow,
} from './store.js';

export type { ProgramRow } from './store.js';

export interface ProgramView {
  id: string;
  name: string;
  settings: ProgramSettings;
  version: number;
  /** 1 at creation, +1 each change of settings (GET /v1/programs/{id}/settings-history). */
  settingsVersion: number;
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
    settingsVersion: row.settingsVersion,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(webhookSecret ? { webhookSecret } : {}),
  };
}

/** The Standard Webhooks form: `whsec_` + base64 of 32 random bytes (those bytes key the `v1` signature). */
const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export async function createProgram(db: Tx, input: { name: string; settings?: Partial<ProgramSettings> }, by: string | null = null) {
  const settings = input.settings ?? {};
  const secret = settings.staffWebhookUrl ? newWebhookSecret() : null;
  const row = await insertProgram(db, { id: uuidv7(), name: input.name, settings, webhookSecret: secret });
  // Version 1: what the program started with, against the defaults.
  await insertSettingsChange(db, {
    id: uuidv7(),
    programId: row.id,
    version: 1,
    changedAt: row.createdAt,
    changedBy: by,
    changes: settingsDiff(resolveSettings({}), resolveSettings(settings)),
  });
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
  const changes = settingsDiff(resolveSettings(current.settings), resolveSettings(settings));
  const settingsChanged = Object.keys(changes).length > 0;
  const row = await updateProgramRow(db, id, current.version, {
    name: patch.name ?? current.name,
    settings,
    ...(urlChanged ? { webhookSecret: secret ?? null } : {}),
    settingsChanged,
  });
  if (row && settingsChanged) {
    // Forgotten now, not at commit: a read in between may keep the old values for SETTINGS_CACHE_MS.
    forgetSettings();
    await insertSettingsChange(db, {
      id: uuidv7(),
      programId: id,
      version: row.settingsVersion,
      changedAt: row.updatedAt,
      changedBy: principal.staffId,
      changes,
    });
  }
  if (!row) throw new DomainError(412, 'precondition.failed', 'The program changed since you read it; fetch it again.');
  return toProgramView(row, secret);
}

/** The keys whose resolved value differs, each with what it was and what it is. */
export function settingsDiff(before: ProgramSettings, after: ProgramSettings): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof ProgramSettings)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) out[key] = { from: before[key] ?? null, to: after[key] ?? null };
  }
  return out;
}

/** GET /v1/programs/{id}/settings-history: every change, newest first (version 1 is the creation). */
export async function settingsHistory(db: Tx, principal: Principal, id: string) {
  await getProgram(db, principal, id);
  const rows = await listSettingsChanges(db, id, 1000);
  return rows.map((r) => ({ version: r.version, changedAt: r.changedAt, changedBy: r.changedBy, changes: r.changes }));
}

import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import type { Platform } from '../cases/profile.js';
import type { Ctx } from '../context.js';
import { conflict, DomainError, notFound } from '../errors.js';
import type { ProgramSettings } from '../programs/settings.js';
import type { Role } from '../staff/principal.js';
import type { OutreachDisclosure } from '../vocabulary.js';
import { findOutreachAccount, insertOutreachAccount, listOutreachAccountsOf, markRetired, type OutreachAccountRow } from './store.js';

export type { OutreachAccountRow } from './store.js';

export function toOutreachAccountView(a: OutreachAccountRow) {
  return {
    id: a.id,
    programId: a.programId,
    platform: a.platform,
    label: a.label,
    disclosure: a.disclosure,
    createdBy: a.createdBy,
    createdAt: a.createdAt,
    retiredAt: a.retiredAt,
  };
}

/** Who reads a program's accounts: everyone working in it (interveners pick one when logging a message). */
const READERS: readonly Role[] = ['lead', 'analyst', 'intervener', 'evaluator', 'dpo'];

function assertOwnProgram(ctx: Ctx, programId: string, roles: readonly Role[]) {
  if (!roles.includes(ctx.principal.role) || ctx.principal.programId !== programId) throw notFound('program');
}

export interface OutreachAccountInput {
  platform: Platform;
  label: string;
  /** Only disclosed accounts exist: the organisation's, or a named person's. There is no persona. */
  disclosure: OutreachDisclosure;
}

/** POST /v1/programs/{id}/outreach-accounts: a lead of the program. */
export async function createOutreachAccount(tx: Tx, ctx: Ctx, programId: string, input: OutreachAccountInput): Promise<OutreachAccountRow> {
  assertOwnProgram(ctx, programId, ['lead']);
  const row = await insertOutreachAccount(tx, {
    id: uuidv7(),
    programId,
    platform: input.platform,
    label: input.label.trim(),
    disclosure: input.disclosure,
    createdBy: ctx.principal.staffId,
    createdAt: ctx.clock.now(),
  });
  ctx.audit(auditEvent(ctx, 'outreach_account.create', 'outreach_account', row.id, programId));
  return row;
}

/** GET /v1/programs/{id}/outreach-accounts: in creation order, retired ones included (with `retiredAt`). */
export function listOutreachAccounts(tx: Tx, ctx: Ctx, programId: string, page: { limit: number; after?: string }) {
  assertOwnProgram(ctx, programId, READERS);
  return listOutreachAccountsOf(tx, programId, page.limit + 1, page.after);
}

/** POST /v1/outreach-accounts/{id}/retire: a lead of its program; messages logged from it keep naming it. */
export async function retireOutreachAccount(tx: Tx, ctx: Ctx, id: string): Promise<OutreachAccountRow> {
  const found = await findOutreachAccount(tx, id);
  if (!found || found.programId !== ctx.principal.programId || ctx.principal.role !== 'lead') throw notFound('outreach_account');
  const row = await markRetired(tx, id, ctx.clock.now());
  if (!row) {
    throw conflict('outreach_account.already_retired', 'This outreach account was retired already.', {
      retiredAt: found.retiredAt?.toISOString() ?? null,
    });
  }
  ctx.audit(auditEvent(ctx, 'outreach_account.retire', 'outreach_account', id, row.programId));
  return row;
}

const invalidAccount = (message: string) =>
  new DomainError(422, 'touchpoint.outreach_account_invalid', message, { errors: [{ path: 'body.outreachAccountId', message }] });

/**
 * The account a touchpoint names, checked: an outbound message's own, live account of its
 * program and of the case's platform; required under `requireOutreachAccount`. An inbound
 * message names none. Returns the id to store (null: none).
 */
export async function checkOutreachAccount(
  tx: Tx,
  settings: Pick<ProgramSettings, 'requireOutreachAccount'>,
  c: { programId: string; platform: Platform },
  direction: 'outbound' | 'inbound',
  outreachAccountId: string | null | undefined,
): Promise<string | null> {
  if (direction === 'inbound') {
    if (outreachAccountId) throw invalidAccount('Only an outbound message names the outreach account it was sent from.');
    return null;
  }
  if (!outreachAccountId) {
    if (settings.requireOutreachAccount)
      throw invalidAccount('The program requires the outreach account an outbound message was sent from.');
    return null;
  }
  const account = await findOutreachAccount(tx, outreachAccountId);
  if (!account || account.programId !== c.programId) throw invalidAccount('No outreach account of this id in the case’s program.');
  if (account.retiredAt) throw invalidAccount('This outreach account is retired.');
  if (account.platform !== c.platform)
    throw invalidAccount(`This outreach account is on ${account.platform}; the case is on ${c.platform}.`);
  return account.id;
}

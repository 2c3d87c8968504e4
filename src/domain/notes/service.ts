import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import { loadCase, loadCaseForWrite } from '../cases/service.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid, notFound } from '../errors.js';
import type { NoteKind, NoteVisibility } from '../vocabulary.js';
import { loadSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { mayWrite, NOTE_BODY_MAX, visibleTo } from './rules.js';
import { insertNote, listNotesOf, type NoteRow } from './store.js';

export type { NoteRow } from './store.js';

export interface NoteInput {
  kind: NoteKind;
  body: string;
  visibility: NoteVisibility;
}

export function toNoteView(n: NoteRow) {
  return {
    id: n.id,
    caseId: n.caseId,
    kind: n.kind,
    // Null once the case is erased: the note's kind and time stay, its text does not.
    body: n.body,
    visibility: n.visibility,
    authorId: n.authorId,
    createdAt: n.createdAt,
  };
}

/** Stores a note authored by the caller and audits it; the caller has checked scope and erasure. */
async function storeNote(tx: Tx, ctx: Ctx, caseId: string, input: NoteInput): Promise<NoteRow> {
  const body = input.body.trim();
  // The HTTP schemas refuse these first; a caller from elsewhere (handover) is held to the same rule.
  if (body.length === 0 || body.length > NOTE_BODY_MAX) {
    throw invalid('note.invalid_body', `A note is 1 to ${NOTE_BODY_MAX} characters.`);
  }
  const row = await insertNote(tx, {
    id: uuidv7(),
    caseId,
    kind: input.kind,
    body,
    visibility: input.visibility,
    authorId: ctx.principal.staffId,
    createdAt: ctx.clock.now(),
  });
  if (!row) throw notFound('case');
  ctx.audit(auditEvent(ctx, 'note.create', 'note', row.id, row.programId, row.caseId));
  return row;
}

/**
 * POST /v1/cases/{id}/notes: the case's holder (or cover) and the program's leads. Only a lead
 * writes a `leads` note (403 `note.leads_only`: the answer depends on the role, never on the case).
 */
export async function createNote(tx: Tx, ctx: Ctx, caseId: string, input: NoteInput): Promise<NoteRow> {
  if (!mayWrite(ctx.principal.role, input.visibility)) {
    throw new DomainError(403, 'note.leads_only', 'Only a lead may write a note with visibility `leads`; write it with `case`.');
  }
  const found = await loadCaseForWrite(tx, ctx, caseId);
  checkFreeText(await loadSettings(tx, found.case.programId), { 'body.body': input.body });
  return storeNote(tx, ctx, found.case.id, input);
}

/**
 * A handover note (visibility `case`) by the caller, for the assignment and staff handover use
 * cases: no scope or erasure check here, the caller has made both, in the same transaction.
 */
export function addHandoverNote(tx: Tx, ctx: Ctx, caseId: string, body: string): Promise<NoteRow> {
  return storeNote(tx, ctx, caseId, { kind: 'handover', body, visibility: 'case' });
}

/** GET /v1/cases/{id}/notes: newest first, only the visibilities the caller's role reads; one audit entry per page. */
export async function listNotes(tx: Tx, ctx: Ctx, caseId: string, page: { limit: number; after?: readonly [string, string] }) {
  const found = await loadCase(tx, ctx, caseId);
  const rows = await listNotesOf(tx, found.case.id, visibleTo(ctx.principal.role), page.limit + 1, page.after);
  ctx.audit(auditEvent(ctx, 'note.list', 'case', found.case.id, found.case.programId));
  return rows;
}

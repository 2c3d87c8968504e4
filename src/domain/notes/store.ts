import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { hotQuery, selectList } from '../../db/prepared.js';
import { caseNotes } from '../../db/schema/index.js';
import type { NoteKind, NoteVisibility } from '../vocabulary.js';

/** The only code that reads or writes case_notes. */

export type NoteRow = typeof caseNotes.$inferSelect;

export interface NewNote {
  id: string;
  caseId: string;
  kind: NoteKind;
  body: string;
  visibility: NoteVisibility;
  authorId: string;
  createdAt: Date;
}

// The program is the case's own, taken from its row: a note can never name another program.
const INSERT_SQL = `insert into case_notes (id, case_id, program_id, kind, body, visibility, author_id, created_at)
  select $1, c.id, c.program_id, $3::note_kind, $4, $5::note_visibility, $6, $7 from cases c where c.id = $2
  returning ${selectList(caseNotes)}`;

/** Stores a note on the case; undefined when there is no such case. */
export async function insertNote(tx: Tx, n: NewNote): Promise<NoteRow | undefined> {
  const [row] = await hotQuery<NoteRow>(tx, 'case_note_insert', INSERT_SQL, [
    n.id,
    n.caseId,
    n.kind,
    n.body,
    n.visibility,
    n.authorId,
    n.createdAt,
  ]);
  return row;
}

/** A case's notes of these visibilities, newest first, after the (createdAt, id) last seen. */
export async function listNotesOf(
  tx: Tx,
  caseId: string,
  visibilities: readonly NoteVisibility[],
  limit: number,
  after?: readonly [string, string],
): Promise<NoteRow[]> {
  if (visibilities.length === 0) return [];
  return tx
    .select()
    .from(caseNotes)
    .where(
      and(
        eq(caseNotes.caseId, caseId),
        inArray(caseNotes.visibility, [...visibilities]),
        after ? sql`(${caseNotes.createdAt}, ${caseNotes.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(caseNotes.createdAt), desc(caseNotes.id))
    .limit(limit);
}

/** Erasure and retention: the text goes; that a note of a kind was written, and when, stays. */
export async function eraseNotesOf(tx: Tx, caseId: string): Promise<void> {
  await tx.update(caseNotes).set({ body: null }).where(eq(caseNotes.caseId, caseId));
}

import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { createdAt, id } from './columns.js';
import { noteKind, noteVisibility } from './enums.js';

/** Case notes: case data (scoped, audited, erased with the case: `body` is set to null). */
export const caseNotes = pgTable(
  'case_notes',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    kind: noteKind('kind').notNull(),
    body: text('body'),
    visibility: noteVisibility('visibility').notNull(),
    authorId: uuid('author_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('case_notes_case_idx').on(t.caseId, t.id)],
);

import { z } from 'zod';
import { NOTE_BODY_MAX } from '../../domain/notes/rules.js';
import { NOTE_KINDS, NOTE_VISIBILITIES } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam } from './common.js';

/** A note's text: 1 to 2000 characters after trimming; also the `handoverNote` / `note` of assignment and handover. */
export const noteText = freeText({ min: 1, max: NOTE_BODY_MAX });

export const createNoteBody = z
  .strictObject({
    kind: z.enum(NOTE_KINDS),
    body: noteText,
    visibility: z.enum(NOTE_VISIBILITIES).describe('`leads`: read by the program’s leads only (only a lead may choose it)'),
  })
  .meta({
    example: { kind: 'general', body: 'They asked for time to think; agreed to check in after the weekend.', visibility: 'case' },
  });

export const noteSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    kind: z.enum(NOTE_KINDS),
    body: z.string().nullable().describe('Null once the case is erased'),
    visibility: z.enum(NOTE_VISIBILITIES),
    authorId: z.uuid(),
    createdAt: isoTime,
  })
  .meta({ id: 'CaseNote' });

export const noteQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });

/** The last (createdAt, id) of a page. */
export const noteCursor = z.tuple([isoTime, z.uuid()]);

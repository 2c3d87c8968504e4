import type { Role } from '../staff/principal.js';
import { NOTE_VISIBILITIES, type NoteVisibility } from '../vocabulary.js';

/** The longest note body, in characters (after trimming). */
export const NOTE_BODY_MAX = 2000;

const NONE: readonly NoteVisibility[] = [];
const CASE_ONLY: readonly NoteVisibility[] = ['case'];

/**
 * The visibilities a role reads and writes: a lead all of them, an intervener only `case` notes
 * (a `leads` note never reaches an intervener), anyone else none (they never see case contents).
 */
export function visibleTo(role: Role): readonly NoteVisibility[] {
  switch (role) {
    case 'lead':
      return NOTE_VISIBILITIES;
    case 'intervener':
      return CASE_ONLY;
    default:
      return NONE;
  }
}

/** Whether a role may write a note of this visibility. */
export function mayWrite(role: Role, visibility: NoteVisibility): boolean {
  return visibleTo(role).includes(visibility);
}

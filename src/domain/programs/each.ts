import type { Db } from '../../db/client.js';
import { invalidStoredKeys, type ProgramSettings, resolveSettings } from './settings.js';
import { allProgramSettings } from './store.js';

/** One program as a scheduled job sees it: its id and its settings, resolved. */
export interface ProgramPart {
  id: string;
  settings: ProgramSettings;
}

/** What went wrong per program in one run of a job that loops over programs. */
export interface ProgramsOutcome {
  /** Programs whose part threw: their work waits for the next run, the others' did not. */
  failed: { programId: string; err: unknown }[];
  /** Programs that ran with a default in place of a stored value that no longer validates. */
  defaulted: { programId: string; keys: string[] }[];
}

/**
 * Runs a job's part for each program in turn, each with its own settings, so that one program's
 * failure (a bad stored value, a row the database refuses) is recorded by id and never stops
 * the others. Listing the programs is the only step whose failure fails the whole run.
 */
export async function eachProgram(db: Db, part: (program: ProgramPart) => Promise<void>): Promise<ProgramsOutcome> {
  const rows = await allProgramSettings(db);
  const outcome: ProgramsOutcome = { failed: [], defaulted: [] };
  for (const row of rows) {
    const keys = invalidStoredKeys(row.stored);
    if (keys.length > 0) outcome.defaulted.push({ programId: row.id, keys });
    try {
      await part({ id: row.id, settings: resolveSettings(row.stored) });
    } catch (err) {
      outcome.failed.push({ programId: row.id, err });
    }
  }
  return outcome;
}

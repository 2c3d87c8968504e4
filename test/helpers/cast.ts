/**
 * How a test sets up its world. Every test file builds its app with `createTestApp()` (app.ts), then:
 * - a program and its people: `const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }, settings)`;
 *   people are created in the order written, an admin belongs to no program, and a second program is a second `cast`;
 * - one more person in a program the test already has: `t.staff(role, programId, extra)`; an admin alone: `t.staff('admin', null)`;
 * - a program nobody works in: `t.program(settings)`;
 * - cases, follow-ups and the rest: through the API, with story.ts (`activeCase`, `ok`, `call`);
 * - the access-matrix and hostile suites: `World` (world.ts), two programs with every role, built on `cast`.
 */
import type { ProgramSettings } from '../../src/domain/programs/settings.js';
import type { Role } from '../../src/domain/staff/principal.js';
import type { TestApp } from './app.js';

/** A staff member as tests hold them: id, bearer token and the header that carries it. */
export type Who = { id: string; token: string; auth: { authorization: string } };

/** One person of a cast: a role, or a role with the matching attributes. */
export type Part = Role | { role: Role; specialisms?: string[]; languages?: string[]; maxCaseload?: number };

/** The people of a cast by the names the test gives them (`programId` names the program). */
export type People = Record<string, Part> & { programId?: never };

export type Cast<P extends People> = { programId: string } & { [K in keyof P]: Who };

/** A new program (with `settings` over the defaults) and the people the test names, in the order written. */
export async function cast<const P extends People>(t: TestApp, people: P, settings?: Partial<ProgramSettings>): Promise<Cast<P>> {
  const { id: programId } = await t.program(settings);
  const out: Record<string, Who | string> = { programId };
  for (const [name, part] of Object.entries(people)) {
    const { role, ...extra } = typeof part === 'string' ? { role: part } : part;
    out[name] = await t.staff(role, role === 'admin' ? null : programId, extra);
  }
  return out as Cast<P>;
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { notify } from '../../src/domain/notifications/notify.js';
import type { Role } from '../../src/domain/staff/principal.js';
import { createToken } from '../../src/domain/staff/tokens.js';
import { TEST_SECRET, type TestApp } from './app.js';
import { cast, type Who } from './cast.js';
import { call, flagBody, ok } from './story.js';

export type { Who } from './cast.js';
export type RouteTable = FastifyInstance['routeTable'];
export const ROLES: readonly Role[] = ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'];

/** How the object a request names stands to the caller. */
export type Relation = 'own' | 'otherIntervener' | 'otherProgram' | 'missing';
export const RELATIONS: readonly Relation[] = ['own', 'otherIntervener', 'otherProgram', 'missing'];

/**
 * The route table as the app registered it. It should be on the root instance (the brief and the
 * type say so); until it is, it is taken from the encapsulated app plugin, and
 * test/hostile/route-policies.test.ts fails on its absence from the root.
 */
export function routeTableOf(app: FastifyInstance): RouteTable {
  if (Array.isArray(app.routeTable)) return app.routeTable;
  const children = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.children');
  const kids = (children ? (app as unknown as Record<symbol, FastifyInstance[]>)[children] : undefined) ?? [];
  for (const kid of kids) if (Array.isArray(kid.routeTable)) return kid.routeTable;
  throw new Error('no routeTable on the app or its children');
}

/** Both programs review outcomes, each case by two (so a first review leaves it open for the next). */
const REVIEWED = { outcomeReview: 'required', secondCoderRate: 1 } as const;

const marker = (what: string) => `${what}${randomBytes(6).toString('hex')}`;

/**
 * Two programs and their people, plus builders for objects in every relation to a caller.
 * Everything of the other program, and every piece of case content, is remembered so that
 * responses can be searched for it.
 */
export class World {
  programId!: string;
  otherProgramId!: string;
  people!: Record<Role, Who>;
  /** A second intervener of the same program: their cases are out of `people.intervener`'s scope. */
  otherIntervener!: Who;
  /** Takes reassigned cases (a high cap). */
  spare!: Who;
  other!: { lead: Who; analyst: Who; intervener: Who };

  /** Ids, handles and text of the other program: never in a response to this program's staff. */
  readonly foreign = new Set<string>();
  /** An assessment template of the program (the `templateId` of an assessment or its report). */
  templateId!: string;
  /** Handles and free text of any case: never in a response to an admin. */
  readonly contents = new Set<string>();
  /** Ids and handles of cases another intervener holds: never in a response to `people.intervener`. */
  readonly otherCaseload = new Set<string>();
  /** Handles of this program's cases past triage: never in a response to the analyst. */
  readonly pastTriage = new Set<string>();

  private shared = new Map<string, Promise<string>>();

  constructor(readonly t: TestApp) {}

  static async create(t: TestApp): Promise<World> {
    const w = new World(t);
    const { programId, admin, lead, analyst, intervener, evaluator, otherIntervener, spare, dpo } = await cast(
      t,
      {
        admin: 'admin',
        lead: 'lead',
        analyst: 'analyst',
        intervener: 'intervener',
        evaluator: 'evaluator',
        otherIntervener: 'intervener',
        spare: { role: 'intervener', maxCaseload: 500 },
        dpo: 'dpo',
      },
      REVIEWED,
    );
    const { programId: otherProgramId, ...other } = await cast(t, { lead: 'lead', analyst: 'analyst', intervener: 'intervener' }, REVIEWED);
    w.programId = programId;
    w.otherProgramId = otherProgramId;
    w.people = { admin, lead, analyst, intervener, evaluator, dpo };
    w.otherIntervener = otherIntervener;
    w.spare = spare;
    w.other = other;
    w.templateId = (
      await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${programId}/assessment-templates`, {
        name: 'Hostile review',
        factors: [{ key: 'isolation', label: 'Isolation' }],
      })
    ).id;
    w.foreign.add(w.otherProgramId);
    for (const who of Object.values(w.other)) w.foreign.add(who.id);
    return w;
  }

  /** A flag body with a handle and a note that can be searched for. */
  flagBody(programId: string) {
    const handle = marker('h');
    const note = marker('note-');
    const body = flagBody(programId, {
      profile: { platform: 'x', handle, language: 'en' },
      indicators: [{ kind: 'shares_propaganda', evidenceUrl: 'https://example.org/post/1', note }],
    });
    this.contents.add(handle).add(note);
    if (programId === this.otherProgramId) this.foreign.add(handle).add(note);
    return { body, handle };
  }

  /** A flagged case of the program (flagged by its lead). */
  async flagged(programId = this.programId): Promise<string> {
    const lead = programId === this.programId ? this.people.lead : this.other.lead;
    const { body } = this.flagBody(programId);
    const c = await ok<{ id: string }>(this.t, lead, 'POST', '/v1/cases', body);
    if (programId === this.otherProgramId) this.foreign.add(c.id);
    return c.id;
  }

  /** A case `holder` held and a lead closed, waiting for review; `disputed`: two reviewers disagreed on it. */
  async closedForReview(holder: Who, programId = this.programId, disputed = false): Promise<string> {
    const id = await this.active(holder, programId);
    const mine = programId === this.programId;
    await ok(this.t, mine ? this.people.lead : this.other.lead, 'POST', `/v1/cases/${id}/close`, { outcome: 'other' });
    // Closed, it has left its holder's caseload: peers review it (its handle stays a secret).
    this.otherCaseload.delete(id);
    if (disputed) {
      const [a, b] = mine ? [this.people.analyst, this.spare] : [this.other.analyst, this.other.lead];
      await ok(this.t, a, 'POST', `/v1/cases/${id}/outcome-reviews`, { outcome: 'other', signals: ['none'], confidence: 'low' });
      await ok(this.t, b, 'POST', `/v1/cases/${id}/outcome-reviews`, { outcome: 'referred', signals: ['none'], confidence: 'low' });
    }
    return id;
  }

  /** An active case held by `holder` (of either program). */
  async active(holder: Who, programId = this.programId): Promise<string> {
    const lead = programId === this.programId ? this.people.lead : this.other.lead;
    const { body, handle } = this.flagBody(programId);
    const c = await ok<{ id: string }>(this.t, lead, 'POST', '/v1/cases', body);
    await ok(this.t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    // A program that stopped requiring approval answers 409 here; assignment works from accepted then.
    await call(this.t, lead, 'POST', `/v1/cases/${c.id}/approve`, {});
    // Override: the fixtures must not depend on whatever caseload cap the program has now.
    await ok(this.t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: holder.id, override: true, reason: 'test fixture' });
    if (programId === this.otherProgramId) this.foreign.add(c.id);
    else this.pastTriage.add(handle);
    if (holder.id !== this.people.intervener.id && programId === this.programId) this.otherCaseload.add(c.id).add(handle);
    return c.id;
  }

  async followUp(caseId: string, programId = this.programId): Promise<string> {
    const lead = programId === this.programId ? this.people.lead : this.other.lead;
    const dueAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const f = await ok<{ id: string }>(this.t, lead, 'POST', `/v1/cases/${caseId}/follow-ups`, { dueAt, kind: 'check_in' });
    if (programId === this.otherProgramId) this.foreign.add(f.id);
    return f.id;
  }

  async concern(caseId: string, programId = this.programId): Promise<string> {
    const lead = programId === this.programId ? this.people.lead : this.other.lead;
    const concern = marker('concern-');
    this.contents.add(concern);
    const c = await ok<{ id: string }>(this.t, lead, 'POST', `/v1/cases/${caseId}/safeguarding`, { severity: 'high', concern });
    if (programId === this.otherProgramId) this.foreign.add(c.id).add(concern);
    return c.id;
  }

  /** A touchpoint logged by `logger` (the case's holder) on `caseId`, with a summary that can be searched for. */
  async touchpoint(caseId: string, logger: Who, programId = this.programId): Promise<string> {
    const summary = marker('tp-');
    this.contents.add(summary);
    const tp = await ok<{ id: string }>(this.t, logger, 'POST', `/v1/cases/${caseId}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      summary,
    });
    if (programId === this.otherProgramId) this.foreign.add(tp.id).add(summary);
    else if (logger.id !== this.people.intervener.id) this.otherCaseload.add(tp.id).add(summary);
    return tp.id;
  }

  /** A notification in `staffId`'s inbox (written as the workers would). */
  async notification(staffId: string, programId: string | null): Promise<string> {
    const [id] = await notify(this.t.db.db, [staffId], {
      kind: 'case_assigned',
      programId,
      caseId: null,
      subjectId: null,
      occurrence: randomUUID(),
    });
    if (programId === this.otherProgramId) this.foreign.add(id!);
    return id!;
  }

  async token(staffId: string, foreign = false): Promise<string> {
    const { id } = await createToken(this.t.db.db, TEST_SECRET, staffId, 'hostile');
    if (foreign) this.foreign.add(id);
    return id;
  }

  async staffIn(programId: string): Promise<string> {
    const s = await this.t.staff('intervener', programId);
    if (programId === this.otherProgramId) this.foreign.add(s.id);
    return s.id;
  }

  /** Built once and shared by every call that does not change it. */
  once(key: string, build: () => Promise<string>): Promise<string> {
    let p = this.shared.get(key);
    if (!p) {
      p = build();
      this.shared.set(key, p);
    }
    return p;
  }

  /** The object of `kind` standing in `relation` to a caller of `role`; `fresh` builds a new one. */
  async target(kind: TargetKind, role: Role, relation: Relation, fresh: boolean): Promise<string> {
    if (relation === 'missing') return kind === 'job' ? 'no-such-job' : randomUUID();
    const build = TARGETS[kind](this, role, relation);
    if (fresh) return build();
    const key = `${kind}/${relation}/${kind === 'case' && role === 'analyst' && relation === 'own' ? 'analyst' : kind === 'notification' ? role : '*'}`;
    return this.once(key, build);
  }
}

export type TargetKind = keyof typeof TARGETS;

type Build = (w: World, role: Role, relation: Exclude<Relation, 'missing'>) => () => Promise<string>;
const caseOf: Build = (w, role, relation) => () => {
  switch (relation) {
    // An analyst's own cases are the ones still in triage; everyone else's are active.
    case 'own':
      return role === 'analyst' ? w.flagged() : w.active(w.people.intervener);
    case 'otherIntervener':
      return w.active(w.otherIntervener);
    case 'otherProgram':
      return w.active(w.other.intervener, w.otherProgramId);
  }
};
const onCase =
  (make: (w: World, caseId: string, programId: string) => Promise<string>): Build =>
  (w, _role, relation) =>
  async () => {
    const key = `case/${relation}/*`;
    const caseId = await w.once(key, caseOf(w, 'lead', relation));
    return make(w, caseId, relation === 'otherProgram' ? w.otherProgramId : w.programId);
  };

/** What the `:id` (or `:name`, or the `programId` field) of a route refers to. */
const TARGETS = {
  case: caseOf,
  followUp: onCase((w, caseId, programId) => w.followUp(caseId, programId)),
  concern: onCase((w, caseId, programId) => w.concern(caseId, programId)),
  notification: ((w, role, relation) => () => {
    if (relation === 'own') return w.notification(w.people[role].id, role === 'admin' ? null : w.programId);
    if (relation === 'otherIntervener') return w.notification(w.otherIntervener.id, w.programId);
    return w.notification(w.other.intervener.id, w.otherProgramId);
  }) as Build,
  /** A program (also the `programId` of a report or a new case): "another intervener's" is the caller's own program. */
  program: ((w, _role, relation) => async () => (relation === 'otherProgram' ? w.otherProgramId : w.programId)) as Build,
  staff: ((w, _role, relation) => () => (relation === 'otherProgram' ? w.staffIn(w.otherProgramId) : w.staffIn(w.programId))) as Build,
  token: ((w, _role, relation) => async () => {
    const holder =
      relation === 'own' ? await w.staffIn(w.programId) : relation === 'otherIntervener' ? w.otherIntervener.id : w.other.intervener.id;
    return w.token(holder, relation === 'otherProgram');
  }) as Build,
  job: (() => async () => 'reconcile') as Build,
  /** A closed case waiting for review: "own" is another intervener's (the caller may review it), "another intervener's" the caller's own (a conflict of interest). */
  reviewCase: ((w, _role, relation) => () =>
    relation === 'otherProgram'
      ? w.closedForReview(w.other.intervener, w.otherProgramId)
      : w.closedForReview(relation === 'own' ? w.otherIntervener : w.people.intervener)) as Build,
  /** A closed case whose two reviews disagree, waiting for a lead's adjudication. */
  disputedCase: ((w, _role, relation) => () =>
    relation === 'otherProgram'
      ? w.closedForReview(w.other.intervener, w.otherProgramId, true)
      : w.closedForReview(w.otherIntervener, w.programId, true)) as Build,
  /** A report snapshot of the program, frozen by its lead. */
  snapshot: ((w, _role, relation) => async () => {
    const other = relation === 'otherProgram';
    const programId = other ? w.otherProgramId : w.programId;
    const s = await ok<{ id: string }>(w.t, other ? w.other.lead : w.people.lead, 'POST', '/v1/reports/snapshots', {
      report: 'engagement',
      params: { programId, from: '2020-01-01', to: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) },
    });
    if (other) w.foreign.add(s.id);
    return s.id;
  }) as Build,
  /** An absence of an intervener of the program, recorded by its lead. */
  absence: ((w, _role, relation) => async () => {
    const programId = relation === 'otherProgram' ? w.otherProgramId : w.programId;
    const lead = relation === 'otherProgram' ? w.other.lead : w.people.lead;
    const staffId = await w.staffIn(programId);
    const from = Date.now() + 86_400_000;
    const a = await ok<{ id: string }>(w.t, lead, 'POST', `/v1/staff/${staffId}/absences`, {
      from: new Date(from).toISOString(),
      to: new Date(from + 3_600_000).toISOString(),
    });
    if (programId === w.otherProgramId) w.foreign.add(a.id);
    return a.id;
  }) as Build,
  /** A touchpoint its case's holder logged: "own" is the intervener's (theirs to void), the others another holder's. */
  touchpoint: ((w, _role, relation) => async () => {
    const holder = relation === 'own' ? w.people.intervener : relation === 'otherIntervener' ? w.otherIntervener : w.other.intervener;
    const programId = relation === 'otherProgram' ? w.otherProgramId : w.programId;
    const caseId = await w.once(`case/${relation}/*`, caseOf(w, 'lead', relation));
    return w.touchpoint(caseId, holder, programId);
  }) as Build,
  /** A debrief owed to an intervener (a hostile message they logged): "own" is the caller's program's intervener's. */
  debrief: ((w, _role, relation) => async () => {
    const holder = relation === 'own' ? w.people.intervener : relation === 'otherIntervener' ? w.otherIntervener : w.other.intervener;
    const programId = relation === 'otherProgram' ? w.otherProgramId : w.programId;
    const caseId = await w.active(holder, programId);
    const tp = await ok<{ id: string }>(w.t, holder, 'POST', `/v1/cases/${caseId}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: new Date().toISOString(),
      sentiment: 'hostile',
    });
    const { rows } = await w.t.db.pool.query<{ id: string }>('select id from debriefs where source_id = $1', [tp.id]);
    if (programId === w.otherProgramId) w.foreign.add(rows[0]!.id);
    return rows[0]!.id;
  }) as Build,
  /** An access request of the program, recorded by its dpo (another program's by its lead). */
  dsr: ((w, _role, relation) => async () => {
    const other = relation === 'otherProgram';
    const d = await ok<{ id: string }>(w.t, other ? w.other.lead : w.people.dpo, 'POST', '/v1/dsr', {
      programId: other ? w.otherProgramId : w.programId,
      type: 'access',
      profile: { platform: 'x', handle: `@dsr_${randomUUID().slice(0, 8)}` },
      receivedAt: new Date().toISOString(),
    });
    if (other) w.foreign.add(d.id);
    return d.id;
  }) as Build,
  /** A disclosed outreach account of the program, registered by its lead. */
  outreachAccount: ((w, _role, relation) => async () => {
    const other = relation === 'otherProgram';
    const a = await ok<{ id: string }>(
      w.t,
      other ? w.other.lead : w.people.lead,
      'POST',
      `/v1/programs/${other ? w.otherProgramId : w.programId}/outreach-accounts`,
      { platform: 'x', label: 'Programme account', disclosure: 'organisation' },
    );
    if (other) w.foreign.add(a.id);
    return a.id;
  }) as Build,
  /** A referral on a case of the program, made by its lead. */
  referral: onCase(async (w, caseId, programId) => {
    const lead = programId === w.programId ? w.people.lead : w.other.lead;
    const r = await ok<{ id: string }>(w.t, lead, 'POST', `/v1/cases/${caseId}/referrals`, { to: 'helpline', consent: 'given' });
    if (programId === w.otherProgramId) w.foreign.add(r.id);
    return r.id;
  }),
  /** A hold on a case of the program, placed by its lead. */
  hold: ((w, _role, relation) => async () => {
    const other = relation === 'otherProgram';
    const caseId = await w.once(`case/${relation}/*`, caseOf(w, 'lead', relation));
    const h = await ok<{ id: string }>(w.t, other ? w.other.lead : w.people.lead, 'POST', `/v1/cases/${caseId}/holds`, {
      reason: 'complaint',
    });
    if (other) w.foreign.add(h.id);
    return h.id;
  }) as Build,
  /** An intervener whose welfare records are asked for: "own" is the intervener themself (for a lead, one of the program's). */
  supervisee: ((w, _role, relation) => async () =>
    relation === 'own' ? w.people.intervener.id : relation === 'otherIntervener' ? w.otherIntervener.id : w.other.intervener.id) as Build,
  /** A program with no trial running (any running one is stopped first): where a lead may start one. */
  trialFreeProgram: ((w, _role, relation) => async () => {
    const programId = relation === 'otherProgram' ? w.otherProgramId : w.programId;
    await stopRunningTrial(w, programId);
    return programId;
  }) as Build,
  /** A running trial of the program, started by its lead (the program's previous one stopped). */
  trial: ((w, _role, relation) => () => startTrial(w, relation === 'otherProgram' ? w.otherProgramId : w.programId)) as Build,
} satisfies Record<string, Build>;

const leadOf = (w: World, programId: string) => (programId === w.otherProgramId ? w.other.lead : w.people.lead);

async function stopRunningTrial(w: World, programId: string): Promise<void> {
  const lead = leadOf(w, programId);
  const { items } = await ok<{ items: { id: string; status: string }[] }>(w.t, lead, 'GET', `/v1/programs/${programId}/trials`);
  for (const trial of items.filter((x) => x.status === 'running')) await ok(w.t, lead, 'POST', `/v1/trials/${trial.id}/stop`);
}

async function startTrial(w: World, programId: string): Promise<string> {
  await stopRunningTrial(w, programId);
  const trial = await ok<{ id: string }>(w.t, leadOf(w, programId), 'POST', `/v1/programs/${programId}/trials`, {
    name: 'matrix',
    arms: ['empathetic', 'questioning'],
  });
  if (programId === w.otherProgramId) w.foreign.add(trial.id);
  return trial.id;
}

/** Every string of `secrets` found in `body` that the request itself did not carry. */
export function leaked(body: string, secrets: Iterable<string>, request: string): string[] {
  const hay = body.toLowerCase();
  const sent = request.toLowerCase();
  const found: string[] = [];
  for (const s of secrets) {
    const needle = s.toLowerCase();
    if (hay.includes(needle) && !sent.includes(needle)) found.push(s);
  }
  return found;
}

/** The secrets a caller of `role` (of the first program) must never be shown. */
export function secretsFor(w: World, role: Role): Set<string> {
  if (role === 'admin') return w.contents;
  // An evaluator sees no case contents and nothing of another program.
  if (role === 'evaluator' || role === 'dpo') return new Set([...w.contents, ...w.foreign]);
  const out = new Set(w.foreign);
  if (role === 'intervener') for (const s of w.otherCaseload) out.add(s);
  if (role === 'analyst') for (const s of w.pastTriage) out.add(s);
  return out;
}

/** Problems as RFC 9457 and the contract describe them; returns what is wrong (empty when fine). */
export function problemDefects(res: { statusCode: number; headers: Record<string, unknown>; body: string }): string[] {
  const defects: string[] = [];
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) defects.push(`content-type ${type || '(none)'}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return [...defects, `body is not JSON: ${res.body.slice(0, 80)}`];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [...defects, 'body is not an object'];
  for (const k of ['type', 'title', 'detail', 'instance', 'requestId', 'code']) {
    if (typeof body[k] !== 'string' || body[k] === '') defects.push(`${k} is ${JSON.stringify(body[k])}`);
  }
  if (body['status'] !== res.statusCode) defects.push(`status field ${JSON.stringify(body['status'])} ≠ ${res.statusCode}`);
  if ('errors' in body) {
    const errors = body['errors'];
    if (!Array.isArray(errors) || errors.some((e) => typeof e?.path !== 'string' || typeof e?.message !== 'string'))
      defects.push('errors malformed');
  }
  if (/\bat .+:\d+:\d+\)?/.test(res.body)) defects.push('stack trace in body');
  return defects;
}

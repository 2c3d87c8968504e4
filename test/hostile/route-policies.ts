import type { Role } from '../../src/domain/staff/principal.js';
import { type Relation, ROLES, type TargetKind, type Who, type World } from '../helpers/world.js';

/**
 * One entry per route of `app.routeTable`: who may call it, what each role gets for an object in
 * each relation to it (API.md: 403 for a role that may never do this, 404 for missing or out of
 * scope), and how to build a valid request. route-policies.test.ts fails when the table and the
 * app disagree in either direction.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** Status per relation; null: the relation means nothing for this route (e.g. another intervener's job). */
export type ByRelation = Record<Relation, number | null>;
export type Expect = Record<Exclude<Role, 'dpo'>, number | ByRelation> & { dpo?: number | ByRelation };

export interface CallContext {
  w: World;
  role: Role;
  caller: Who;
  /** The resolved `:id` / `:name` / `programId` (a random uuid for "missing"); '' without a target. */
  target: string;
}

export interface RequestSpec {
  /** The path with parameters filled and any query. */
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
}

export interface RoutePolicy {
  method: Method;
  /** Exactly as in app.routeTable (`:id`, `*`). */
  url: string;
  /** What routeTable must record for it. */
  auth: 'public' | readonly Role[] | 'own';
  /** Being added by someone else: may be missing from the app. */
  optional?: true;
  /** What `:id` (or `:name`, or the `programId` field) refers to; without one a route is checked per role. */
  target?: TargetKind;
  /** `dpo` left out: as the evaluator's, every status a 403 (on a case route, 404 for every relation). */
  expect: Expect;
  /** Succeeding changes the object: each allowed call gets a fresh one. */
  mutates?: true;
  /** Lists closed cases of the program to peers who may review them: case ids (never identities) of other holders' cases are expected. */
  peerReview?: true;
  /** PATCH: send If-Match with the current version of this kind of row. */
  ifMatch?: 'case' | 'program';
  /** Bull Board: its own (non-problem) bodies for its own 4xx. */
  board?: true;
  request: (c: CallContext) => RequestSpec;
}

const S = (own: number, otherIntervener: number | null, otherProgram: number | null, missing: number): ByRelation => ({
  own,
  otherIntervener,
  otherProgram,
  missing,
});
const DENY = S(403, 403, 403, 403);
/** In scope for a lead: the whole program. */
const PROGRAM = (ok: number) => S(ok, ok, 404, 404);
/** In scope for an intervener (and an analyst on a case in triage): only their own. */
const OWN = (ok: number) => S(ok, 404, 404, 404);
const ALL = (status: number) => ({ admin: status, lead: status, analyst: status, intervener: status, evaluator: status, dpo: status });
const only = (roles: Role[], status: number | ByRelation, otherwise: number | ByRelation = 403) =>
  Object.fromEntries(ROLES.map((r) => [r, roles.includes(r) ? status : otherwise])) as Record<Role, number | ByRelation>;

const soon = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const day = (days: number) => soon(days).slice(0, 10);
const path = (url: string, target: string) => url.replace(/:(id|name|file)\b/, target);
const unique = () => Math.random().toString(36).slice(2, 10);
const READERS: Role[] = ['lead', 'analyst', 'intervener'];

/** A case route: `GET|POST /v1/cases/:id{suffix}`. */
function caseRoute(
  method: Method,
  suffix: string,
  auth: Role[],
  expect: Partial<Record<Role, ByRelation>>,
  payload?: (c: CallContext) => unknown,
  extra: Partial<RoutePolicy> = {},
): RoutePolicy {
  const url = `/v1/cases/:id${suffix}`;
  return {
    method,
    url,
    auth,
    target: 'case',
    expect: { admin: DENY, lead: DENY, analyst: DENY, intervener: DENY, evaluator: DENY, ...expect },
    request: (c) => ({ url: path(url, c.target), ...(payload ? { payload: payload(c) } : {}) }),
    ...extra,
  };
}

const get = (url: string, auth: RoutePolicy['auth'], expect: Expect, extra: Partial<RoutePolicy> = {}): RoutePolicy => ({
  method: 'GET',
  url,
  auth,
  expect,
  request: (c) => ({ url: path(url, c.target) }),
  ...extra,
});

const BOARD = '/admin/queues';
/** Board routes: an admin reaches Bull Board (its own statuses), anyone else gets 403. */
function board(method: Method, url: string, adminStatus: number, filled = url, payload?: unknown): RoutePolicy {
  return {
    method,
    url: `${BOARD}${url}`,
    auth: 'own',
    board: true,
    expect: { admin: adminStatus, lead: 403, analyst: 403, intervener: 403, evaluator: 403 },
    request: () => ({ url: `${BOARD}${filled}`, ...(payload !== undefined ? { payload } : method === 'GET' ? {} : { payload: {} }) }),
  };
}
/** Mutating board calls name a queue that does not exist, so they change nothing (Bull Board answers 404). */
const NOQ = 'no-such-queue';

/** Routes about one case (as src/http/plugins/auth.ts names them): an evaluator not allowed there gets 404, as if the case did not exist. */
const CASE_ROUTE = /^\/v1\/(cases\/:id|touchpoints\/:id|follow-ups\/:id|safeguarding\/:id|referrals\/:id)(\/|$)/;
function hiddenFrom(p: RoutePolicy, role: 'evaluator' | 'dpo'): boolean {
  return CASE_ROUTE.test(p.url) && (p.auth === 'public' || p.auth === 'own' || !p.auth.includes(role));
}
const evaluatorHidden = (p: RoutePolicy) => hiddenFrom(p, 'evaluator');
/** A dpo left out of a policy gets 403 wherever the evaluator has a status (the same shape), 404 on a case route. */
function dpoDefault(p: RoutePolicy): number | ByRelation {
  if (hiddenFrom(p, 'dpo')) return NONE;
  const e = p.expect.evaluator;
  if (typeof e === 'number') return p.auth === 'public' ? e : 403;
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? null : 403])) as ByRelation;
}
const NONE = S(404, 404, 404, 404);

const DECLARED: RoutePolicy[] = [
  // Swagger UI (public).
  get('/docs', 'public', ALL(200)),
  get('/docs/static/index.html', 'public', ALL(302)),
  get('/docs/static/swagger-initializer.js', 'public', ALL(200)),
  get('/docs/json', 'public', ALL(200)),
  get('/docs/yaml', 'public', ALL(200)),
  { ...get('/docs/static/*', 'public', ALL(200)), request: () => ({ url: '/docs/static/favicon-32x32.png' }) },
  get('/openapi.json', 'public', ALL(200)),
  // Health and metrics (public).
  get('/healthz', 'public', ALL(200)),
  get('/readyz', 'public', ALL(200)),
  get('/metrics', 'public', ALL(200)),
  // The lead's report page (static; its data comes from /v1/reports with the lead's token).
  get('/reports', 'public', ALL(200), { optional: true }),
  { ...get('/reports/assets/:file', 'public', ALL(200), { optional: true }), request: () => ({ url: '/reports/assets/reports.js' }) },
  // The workbench (static; every action in it is a /v1 call with the user's own token).
  get('/app', 'public', ALL(200)),
  { ...get('/app/assets/:file', 'public', ALL(200)), request: () => ({ url: '/app/assets/main.js' }) },

  // Me.
  get('/v1/me', ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'], ALL(200)),
  get('/v1/me/caseload', ['intervener'], only(['intervener'], 200)),
  get('/v1/me/notifications', ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'], ALL(200), {
    request: () => ({ url: '/v1/me/notifications?unread=true' }),
  }),
  {
    method: 'POST',
    url: '/v1/me/notifications/:id/read',
    auth: ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'],
    target: 'notification',
    // An inbox is personal: nobody, not even an admin or a lead, reads another's.
    expect: { admin: OWN(200), lead: OWN(200), analyst: OWN(200), intervener: OWN(200), evaluator: OWN(200), dpo: OWN(200) },
    mutates: true,
    request: (c) => ({ url: `/v1/me/notifications/${c.target}/read`, payload: {} }),
  },

  // Programs.
  {
    method: 'POST',
    url: '/v1/programs',
    auth: ['admin'],
    expect: only(['admin'], 201),
    mutates: true,
    request: () => ({ url: '/v1/programs', payload: { name: `Hostile ${unique()}`, settings: { minCellSize: 3 } } }),
  },
  get('/v1/programs', ['admin', 'lead'], only(['admin', 'lead'], 200)),
  get(
    '/v1/programs/:id',
    ['admin', 'lead'],
    { admin: S(200, 200, 200, 404), lead: PROGRAM(200), analyst: DENY, intervener: DENY, evaluator: DENY },
    { target: 'program' },
  ),
  get(
    '/v1/programs/:id/settings-history',
    ['admin', 'lead'],
    { admin: S(200, 200, 200, 404), lead: PROGRAM(200), analyst: DENY, intervener: DENY, evaluator: DENY },
    { target: 'program' },
  ),
  {
    method: 'PATCH',
    url: '/v1/programs/:id',
    auth: ['admin', 'lead'],
    target: 'program',
    expect: { admin: S(200, 200, 200, 404), lead: PROGRAM(200), analyst: DENY, intervener: DENY, evaluator: DENY },
    ifMatch: 'program',
    request: (c) => ({ url: `/v1/programs/${c.target}`, payload: { settings: { followUpAfter: 'P2D' } } }),
  },

  // Assessment templates: a lead of the program creates them; its case workers and evaluators list them.
  {
    method: 'POST',
    url: '/v1/programs/:id/assessment-templates',
    auth: ['lead'],
    target: 'program',
    expect: only(['lead'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({
      url: `/v1/programs/${c.target}/assessment-templates`,
      payload: { name: `Template ${unique()}`, factors: [{ key: 'isolation', label: 'Isolation' }] },
    }),
  },
  get(
    '/v1/programs/:id/assessment-templates',
    ['lead', 'analyst', 'intervener', 'evaluator'],
    only(['lead', 'analyst', 'intervener', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
    { target: 'program' },
  ),

  // Staff and tokens (admin).
  {
    method: 'POST',
    url: '/v1/staff',
    auth: ['admin'],
    expect: only(['admin'], 201),
    mutates: true,
    request: (c) => ({
      url: '/v1/staff',
      payload: { programId: c.w.programId, name: `New ${unique()}`, role: 'intervener', languages: ['en'] },
    }),
  },
  get('/v1/staff', ['admin', 'lead'], only(['admin', 'lead'], 200)),
  get('/v1/staff/:id', ['admin'], only(['admin'], S(200, 200, 200, 404), DENY), { target: 'staff' }),
  {
    method: 'PATCH',
    url: '/v1/staff/:id',
    auth: ['admin'],
    target: 'staff',
    expect: only(['admin'], S(200, 200, 200, 404), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/staff/${c.target}`, payload: { maxCaseload: 12, languages: ['en', 'de'] } }),
  },
  {
    method: 'POST',
    url: '/v1/staff/:id/tokens',
    auth: ['admin'],
    target: 'staff',
    expect: only(['admin'], S(201, 201, 201, 404), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/staff/${c.target}/tokens`, payload: { label: 'laptop' } }),
  },
  // Continuity of care: handover and absences (API.md). "Own" staff are an intervener of the caller's program, never the caller.
  {
    method: 'POST',
    url: '/v1/staff/:id/handover',
    auth: ['lead'],
    target: 'staff',
    expect: only(['lead'], S(200, 200, 404, 404), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/staff/${c.target}/handover`, payload: { strategy: 'ranked', reason: 'leaving' } }),
  },
  {
    method: 'POST',
    url: '/v1/staff/:id/absences',
    auth: ['lead', 'intervener'],
    target: 'staff',
    expect: { ...only(['lead'], S(201, 201, 404, 404), DENY), intervener: S(404, 404, 404, 404) },
    mutates: true,
    request: (c) => {
      const start = Date.now() + Math.floor(Math.random() * 300) * 86_400_000;
      return {
        url: `/v1/staff/${c.target}/absences`,
        payload: { from: new Date(start).toISOString(), to: new Date(start + 3_600_000).toISOString(), reason: 'leave' },
      };
    },
  },
  {
    method: 'GET',
    url: '/v1/staff/:id/absences',
    auth: ['lead', 'intervener'],
    target: 'staff',
    expect: { ...only(['lead'], S(200, 200, 404, 404), DENY), intervener: S(404, 404, 404, 404) },
    request: (c) => ({ url: `/v1/staff/${c.target}/absences` }),
  },
  {
    method: 'DELETE',
    url: '/v1/absences/:id',
    auth: ['lead', 'intervener'],
    target: 'absence',
    expect: { ...only(['lead'], S(204, 204, 404, 404), DENY), intervener: S(404, 404, 404, 404) },
    mutates: true,
    request: (c) => ({ url: `/v1/absences/${c.target}` }),
  },
  {
    method: 'DELETE',
    url: '/v1/tokens/:id',
    auth: ['admin'],
    target: 'token',
    expect: only(['admin'], S(204, 204, 204, 404), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/tokens/${c.target}` }),
  },

  // Cases.
  {
    method: 'POST',
    url: '/v1/cases',
    auth: ['analyst', 'lead'],
    target: 'program',
    // The programId field: only the caller's own program (another's is 404, as if missing).
    expect: only(['analyst', 'lead'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({ url: '/v1/cases', payload: c.w.flagBody(c.target).body }),
  },
  get('/v1/cases', READERS, only(READERS, 200), { request: () => ({ url: '/v1/cases?limit=200' }) }),
  caseRoute('GET', '', READERS, { lead: PROGRAM(200), analyst: OWN(200), intervener: OWN(200) }),
  caseRoute(
    'PATCH',
    '',
    READERS,
    { lead: PROGRAM(200), analyst: OWN(200), intervener: OWN(200) },
    () => ({ riskLevel: 'high', profile: { language: 'de' } }),
    {
      mutates: true,
      ifMatch: 'case',
    },
  ),
  // The fixtures are active cases (in triage for an analyst): lead's triage is a wrong state.
  caseRoute(
    'POST',
    '/triage',
    ['analyst', 'lead'],
    { lead: PROGRAM(409), analyst: OWN(200) },
    () => ({ decision: 'accept', reason: 'meets criteria' }),
    {
      mutates: true,
    },
  ),
  caseRoute('POST', '/approve', ['lead'], { lead: PROGRAM(409) }, () => ({ note: 'ok' })),
  caseRoute('POST', '/assignment', ['lead'], { lead: PROGRAM(200) }, (c) => ({ intervenerId: c.w.spare.id }), { mutates: true }),
  caseRoute(
    'POST',
    '/close',
    ['lead', 'intervener'],
    { lead: PROGRAM(200), intervener: OWN(200) },
    () => ({ outcome: 'other', note: 'went quiet' }),
    {
      mutates: true,
    },
  ),
  caseRoute('POST', '/reopen', ['lead'], { lead: PROGRAM(409) }, () => ({ reason: 'new contact' })),
  caseRoute('POST', '/erase', ['lead'], { lead: PROGRAM(200) }, () => ({ reason: 'request received' }), { mutates: true }),
  caseRoute('GET', '/candidates', ['lead'], { lead: PROGRAM(200) }),
  caseRoute('GET', '/events', ['lead'], { lead: PROGRAM(200) }),
  caseRoute(
    'POST',
    '/touchpoints',
    ['lead', 'intervener'],
    { lead: PROGRAM(201), intervener: OWN(201) },
    () => ({
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: soon(0),
      approaches: ['empathetic'],
      sentiment: 'neutral',
      costCents: 0,
      summary: 'said hello',
    }),
    { mutates: true },
  ),
  caseRoute('GET', '/touchpoints', READERS, { lead: PROGRAM(200), analyst: OWN(200), intervener: OWN(200) }),
  // Its logger (the intervener, on their own case) or a lead of the program; another holder's is out of scope.
  {
    method: 'POST',
    url: '/v1/touchpoints/:id/void',
    auth: ['lead', 'intervener'],
    target: 'touchpoint',
    expect: { admin: DENY, lead: PROGRAM(200), analyst: DENY, intervener: OWN(200), evaluator: DENY },
    mutates: true,
    request: (c) => ({ url: `/v1/touchpoints/${c.target}/void`, payload: { reason: 'logged on the wrong case' } }),
  },
  caseRoute(
    'POST',
    '/follow-ups',
    ['lead', 'intervener'],
    { lead: PROGRAM(201), intervener: OWN(201) },
    () => ({ dueAt: soon(2), kind: 'follow_up', note: 'check' }),
    {
      mutates: true,
    },
  ),
  // Case notes: case contents, so no analyst or admin (the text is searched for in every response to an admin).
  caseRoute('POST', '/notes', ['lead', 'intervener'], { lead: PROGRAM(201), intervener: OWN(201) }, (c) => {
    const body = `note-${unique()}`;
    c.w.contents.add(body);
    return { kind: 'general', body, visibility: 'case' };
  }),
  caseRoute('GET', '/notes', ['lead', 'intervener'], { lead: PROGRAM(200), intervener: OWN(200) }),
  // Assessments: case contents (an analyst's only on a case in triage, and a baseline only); the note is searched for in every response to an admin.
  caseRoute('POST', '/assessments', READERS, { lead: PROGRAM(201), analyst: OWN(201), intervener: OWN(201) }, (c) => {
    const note = `assessment-${unique()}`;
    c.w.contents.add(note);
    return { templateId: c.w.templateId, phase: 'baseline', scores: { isolation: 2 }, note };
  }),
  caseRoute('GET', '/assessments', READERS, { lead: PROGRAM(200), analyst: OWN(200), intervener: OWN(200) }),
  caseRoute(
    'POST',
    '/safeguarding',
    READERS,
    { lead: PROGRAM(201), analyst: OWN(201), intervener: OWN(201) },
    () => ({ severity: 'high', concern: 'mentions a date', actionTaken: 'none yet' }),
    { mutates: true },
  ),

  // Follow-ups.
  get('/v1/follow-ups', ['lead', 'intervener'], only(['lead', 'intervener'], 200), {
    request: () => ({ url: '/v1/follow-ups?status=pending' }),
  }),
  ...(['complete', 'cancel', 'snooze'] as const).map(
    (action): RoutePolicy => ({
      method: 'POST',
      url: `/v1/follow-ups/:id/${action}`,
      auth: ['lead', 'intervener'],
      target: 'followUp',
      expect: { admin: DENY, lead: PROGRAM(200), analyst: DENY, intervener: OWN(200), evaluator: DENY },
      mutates: true,
      request: (c) => ({ url: `/v1/follow-ups/${c.target}/${action}`, payload: action === 'snooze' ? { until: soon(5) } : {} }),
    }),
  ),

  // Safeguarding.
  {
    method: 'POST',
    url: '/v1/safeguarding/:id/acknowledge',
    auth: ['lead'],
    target: 'concern',
    expect: only(['lead'], PROGRAM(200), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/safeguarding/${c.target}/acknowledge`, payload: { note: 'called the police liaison' } }),
  },
  get('/v1/safeguarding', READERS, only(READERS, 200), { request: () => ({ url: '/v1/safeguarding?status=open' }) }),

  // Reports (lead, own program in the programId query).
  ...['/v1/reports/engagement', '/v1/reports/engagement/trend'].map(
    (url): RoutePolicy => ({
      method: 'GET',
      url,
      auth: ['lead', 'evaluator'],
      target: 'program',
      expect: only(['lead', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
      request: (c) => ({
        url: `${url}?programId=${c.target}&from=${day(-30)}&to=${day(1)}${url.endsWith('trend') ? '&interval=week' : '&groupBy=platform'}`,
      }),
    }),
  ),

  // Outcome review (peers of the program, never a former holder; blind until one's own review is in).
  {
    method: 'POST',
    url: '/v1/cases/:id/outcome-reviews',
    auth: READERS,
    target: 'reviewCase',
    expect: { ...only(['lead', 'analyst'], S(201, 201, 404, 404), DENY), intervener: S(201, 409, 404, 404) },
    mutates: true,
    request: (c) => ({ url: `/v1/cases/${c.target}/outcome-reviews`, payload: { outcome: 'other', signals: ['none'], confidence: 'low' } }),
  },
  get('/v1/cases/:id/outcome-reviews', READERS, only(READERS, S(200, 200, 404, 404), DENY), { target: 'reviewCase' }),
  {
    method: 'POST',
    url: '/v1/cases/:id/outcome-adjudication',
    auth: ['lead'],
    target: 'disputedCase',
    expect: only(['lead'], S(201, 201, 404, 404), DENY),
    mutates: true,
    request: (c) => ({
      url: `/v1/cases/${c.target}/outcome-adjudication`,
      payload: { outcome: 'other', signals: ['none'], note: 'settled' },
    }),
  },
  get('/v1/reviews/pending', READERS, only(READERS, 200), { peerReview: true, request: () => ({ url: '/v1/reviews/pending?limit=10' }) }),
  // Evaluation (lead, evaluator): agreement, snapshots, the pseudonymised export.
  ...['/v1/reports/agreement', '/v1/exports/cases', '/v1/reports/snapshots'].map(
    (url): RoutePolicy => ({
      method: 'GET',
      url,
      auth: ['lead', 'evaluator'],
      target: 'program',
      expect: only(['lead', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
      request: (c) => ({ url: `${url}?programId=${c.target}${url.endsWith('snapshots') ? '' : `&from=2020-01-01&to=${day(1)}`}` }),
    }),
  ),
  {
    method: 'GET',
    url: '/v1/reports/assessments',
    auth: ['lead', 'evaluator'],
    target: 'program',
    expect: only(['lead', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
    request: (c) => ({
      url: `/v1/reports/assessments?programId=${c.target}&templateId=${c.w.templateId}&from=2020-01-01&to=${day(1)}`,
    }),
  },
  {
    method: 'POST',
    url: '/v1/reports/snapshots',
    auth: ['lead', 'evaluator'],
    target: 'program',
    expect: only(['lead', 'evaluator'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({
      url: '/v1/reports/snapshots',
      payload: { report: 'engagement', params: { programId: c.target, from: '2020-01-01', to: day(1) } },
    }),
  },
  ...['', '/verify'].map(
    (suffix): RoutePolicy => ({
      method: 'GET',
      url: `/v1/reports/snapshots/:id${suffix}`,
      auth: ['lead', 'evaluator'],
      target: 'snapshot',
      expect: only(['lead', 'evaluator'], PROGRAM(200), DENY),
      request: (c) => ({ url: `/v1/reports/snapshots/${c.target}${suffix}` }),
    }),
  ),

  // Data protection: holds, the retention preview, the record of processing (leads and dpos; the record also admins).
  {
    ...caseRoute('POST', '/holds', ['lead', 'dpo'], { lead: PROGRAM(201), dpo: PROGRAM(201) }, () => ({ reason: 'complaint' })),
    mutates: true,
  },
  {
    method: 'DELETE',
    url: '/v1/holds/:id',
    auth: ['lead', 'dpo'],
    target: 'hold',
    expect: only(['lead', 'dpo'], PROGRAM(200), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/holds/${c.target}` }),
  },
  get('/v1/holds', ['lead', 'dpo'], only(['lead', 'dpo'], 200)),
  // Outreach accounts: a lead of the program registers and retires them; everyone working in it lists them.
  {
    method: 'POST',
    url: '/v1/programs/:id/outreach-accounts',
    auth: ['lead'],
    target: 'program',
    expect: only(['lead'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({
      url: `/v1/programs/${c.target}/outreach-accounts`,
      payload: { platform: 'x', label: `Account ${unique()}`, disclosure: 'organisation' },
    }),
  },
  get(
    '/v1/programs/:id/outreach-accounts',
    ['lead', 'analyst', 'intervener', 'evaluator', 'dpo'],
    only(['lead', 'analyst', 'intervener', 'evaluator', 'dpo'], S(200, null, 404, 404), S(403, null, 403, 403)),
    { target: 'program' },
  ),
  {
    method: 'POST',
    url: '/v1/outreach-accounts/:id/retire',
    auth: ['lead'],
    target: 'outreachAccount',
    expect: only(['lead'], S(200, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({ url: `/v1/outreach-accounts/${c.target}/retire` }),
  },
  // Referrals: case work (holder or cover, lead); an analyst reads those of a case in triage.
  caseRoute('POST', '/referrals', ['lead', 'intervener'], { lead: PROGRAM(201), intervener: OWN(201) }, (c) => {
    const note = `referral-${unique()}`;
    c.w.contents.add(note);
    return { to: 'helpline', consent: 'given', note };
  }),
  caseRoute('GET', '/referrals', READERS, { lead: PROGRAM(200), analyst: OWN(200), intervener: OWN(200) }),
  {
    method: 'PATCH',
    url: '/v1/referrals/:id',
    auth: ['lead', 'intervener'],
    target: 'referral',
    expect: { admin: DENY, lead: PROGRAM(200), analyst: DENY, intervener: OWN(200), evaluator: DENY },
    request: (c) => ({ url: `/v1/referrals/${c.target}`, payload: { status: 'accepted' } }),
  },
  // Data-subject requests: a program's dpos and leads; the export and the concern review a dpo's alone.
  {
    method: 'POST',
    url: '/v1/dsr',
    auth: ['dpo', 'lead'],
    target: 'program',
    expect: only(['dpo', 'lead'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({
      url: '/v1/dsr',
      payload: {
        programId: c.target,
        type: 'access',
        profile: { platform: 'x', handle: `@dsr_${unique()}` },
        receivedAt: new Date().toISOString(),
      },
    }),
  },
  get('/v1/dsr', ['dpo', 'lead'], only(['dpo', 'lead'], 200), { request: () => ({ url: '/v1/dsr?status=open' }) }),
  get('/v1/dsr/:id', ['dpo', 'lead'], only(['dpo', 'lead'], S(200, null, 404, 404), S(403, null, 403, 403)), { target: 'dsr' }),
  get('/v1/dsr/:id/export', ['dpo'], only(['dpo'], S(200, null, 404, 404), S(403, null, 403, 403)), { target: 'dsr' }),
  ...(['extend', 'close'] as const).map(
    (action): RoutePolicy => ({
      method: 'POST',
      url: `/v1/dsr/:id/${action}`,
      auth: ['dpo', 'lead'],
      target: 'dsr',
      expect: only(['dpo', 'lead'], S(200, null, 404, 404), S(403, null, 403, 403)),
      mutates: true,
      request: (c) => ({
        url: `/v1/dsr/${c.target}/${action}`,
        payload: action === 'extend' ? { reason: 'complex request' } : { resolution: 'no_data', note: 'nothing held' },
      }),
    }),
  ),
  {
    method: 'POST',
    url: '/v1/safeguarding/:id/dpo-review',
    auth: ['dpo'],
    target: 'concern',
    expect: only(['dpo'], PROGRAM(200), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/safeguarding/${c.target}/dpo-review`, payload: {} }),
  },
  {
    method: 'GET',
    url: '/v1/retention/preview',
    auth: ['lead', 'dpo'],
    target: 'program',
    expect: only(['lead', 'dpo'], S(200, null, 404, 404), S(403, null, 403, 403)),
    request: (c) => ({ url: `/v1/retention/preview?programId=${c.target}&within=P30D` }),
  },
  get(
    '/v1/programs/:id/record-of-processing',
    ['dpo', 'lead', 'admin'],
    { ...only(['lead', 'dpo'], S(200, null, 404, 404), S(403, null, 403, 403)), admin: S(200, null, 200, 404) },
    { target: 'program' },
  ),

  // Intervener welfare: the person's and their leads' alone (evaluators and analysts find nothing).
  {
    method: 'POST',
    url: '/v1/me/time',
    auth: ['intervener'],
    expect: only(['intervener'], 201),
    request: () => ({ url: '/v1/me/time', payload: { at: new Date().toISOString(), minutes: 5, activity: 'reading' } }),
  },
  get('/v1/me/welfare', ['intervener'], only(['intervener'], 200)),
  {
    method: 'PUT',
    url: '/v1/me/avoid',
    auth: ['intervener'],
    expect: only(['intervener'], 200),
    request: () => ({ url: '/v1/me/avoid', payload: { avoid: [] } }),
  },
  get('/v1/debriefs', ['lead', 'intervener', 'analyst', 'evaluator'], { ...only(['lead', 'intervener'], 200, 404), admin: 403, dpo: 403 }),
  {
    method: 'POST',
    url: '/v1/debriefs/:id/complete',
    auth: ['lead'],
    target: 'debrief',
    expect: only(['lead'], PROGRAM(200), DENY),
    mutates: true,
    request: (c) => ({ url: `/v1/debriefs/${c.target}/complete`, payload: { note: 'held' } }),
  },
  {
    method: 'POST',
    url: '/v1/staff/:id/supervision-sessions',
    auth: ['lead'],
    target: 'supervisee',
    expect: only(['lead'], PROGRAM(201), DENY),
    mutates: true,
    request: (c) => ({
      url: `/v1/staff/${c.target}/supervision-sessions`,
      payload: { at: new Date(Date.now() - 60_000).toISOString(), minutes: 30, format: 'individual' },
    }),
  },
  get(
    '/v1/staff/:id/supervision-sessions',
    ['lead', 'intervener', 'analyst', 'evaluator'],
    { admin: DENY, lead: PROGRAM(200), intervener: OWN(200), analyst: S(404, 404, 404, 404), evaluator: S(404, 404, 404, 404) },
    { target: 'supervisee' },
  ),

  {
    method: 'GET',
    url: '/v1/reports/welfare',
    auth: ['lead', 'evaluator'],
    target: 'program',
    // Never to evaluators: for them there is no such report (404), as for a lead of another program.
    expect: { ...only(['lead'], S(200, null, 404, 404), S(403, null, 403, 403)), evaluator: S(404, null, 404, 404) },
    request: (c) => ({ url: `/v1/reports/welfare?programId=${c.target}&from=2020-01-01&to=${day(1)}` }),
  },

  // Approach trials: leads run them; leads and evaluators read them and their report.
  {
    method: 'POST',
    url: '/v1/programs/:id/trials',
    auth: ['lead'],
    target: 'trialFreeProgram',
    expect: only(['lead'], S(201, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({ url: `/v1/programs/${c.target}/trials`, payload: { name: `t ${unique()}`, arms: ['humour', 'informational'] } }),
  },
  {
    method: 'GET',
    url: '/v1/programs/:id/trials',
    auth: ['lead', 'evaluator'],
    target: 'program',
    expect: only(['lead', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
    request: (c) => ({ url: `/v1/programs/${c.target}/trials` }),
  },
  ...['/v1/trials/:id', '/v1/reports/trials/:id'].map(
    (url): RoutePolicy => ({
      method: 'GET',
      url,
      auth: ['lead', 'evaluator'],
      target: 'trial',
      expect: only(['lead', 'evaluator'], S(200, null, 404, 404), S(403, null, 403, 403)),
      request: (c) => ({ url: path(url, c.target) }),
    }),
  ),
  {
    method: 'POST',
    url: '/v1/trials/:id/stop',
    auth: ['lead'],
    target: 'trial',
    expect: only(['lead'], S(200, null, 404, 404), S(403, null, 403, 403)),
    mutates: true,
    request: (c) => ({ url: `/v1/trials/${c.target}/stop` }),
  },

  // Admin.
  {
    method: 'POST',
    url: '/v1/admin/jobs/:name/run',
    auth: ['admin'],
    target: 'job',
    expect: only(['admin'], S(202, null, null, 404), S(403, null, null, 403)),
    request: (c) => ({ url: `/v1/admin/jobs/${c.target}/run?wait=false` }),
  },
  // A dpo reads their own program's entries (API.md, Audit for dpos).
  get('/v1/audit', ['admin', 'dpo'], only(['admin', 'dpo'], 200), { request: () => ({ url: '/v1/audit?limit=200' }) }),
  get('/v1/audit/verify', ['admin', 'dpo'], only(['admin', 'dpo'], 200)),

  // Bull Board: the sign-in page is public (routeTable should say so); the rest checks admins itself.
  get(`${BOARD}/login`, 'public', ALL(200)),
  {
    method: 'POST',
    url: `${BOARD}/login`,
    auth: 'public',
    expect: { admin: 204, lead: 401, analyst: 401, intervener: 401, evaluator: 401 },
    request: (c) => ({ url: `${BOARD}/login`, payload: { token: c.caller.token } }),
  },
  // Ends the board session named by the cookie, if any: nothing to refuse.
  { method: 'POST', url: `${BOARD}/logout`, auth: 'public', expect: ALL(204), request: () => ({ url: `${BOARD}/logout`, payload: {} }) },
  board('GET', '', 200),
  board('GET', '/metrics-history', 200),
  board('GET', '/job-schedulers', 200),
  board('GET', '/queue/:queueName', 200, '/queue/maintenance'),
  board('GET', '/queue/:queueName/:jobId', 200, '/queue/maintenance/j1'),
  board('GET', '/api/redis/stats', 200),
  board('GET', '/api/queues', 200),
  board('GET', '/api/job-schedulers', 200),
  board('GET', '/api/queues/:queueName/metrics', 200, '/api/queues/maintenance/metrics'),
  board('GET', '/api/queues/:queueName/default-job-options', 200, '/api/queues/maintenance/default-job-options'),
  board('GET', '/api/queues/:queueName/workers', 200, '/api/queues/maintenance/workers'),
  board('GET', '/api/queues/:queueName/rate-limit', 200, '/api/queues/maintenance/rate-limit'),
  board('GET', '/api/queues/:queueName/job-data-schema', 200, '/api/queues/maintenance/job-data-schema'),
  // Pauses and resumes every queue: no worker runs in these tests, and resume comes right after pause.
  board('PUT', '/api/queues/pause', 200),
  board('PUT', '/api/queues/resume', 200),
  board('GET', '/api/queues/:queueName/:jobId/logs', 200, '/api/queues/maintenance/j1/logs'),
  board('GET', '/api/queues/:queueName/:jobId/flow', 404, '/api/queues/maintenance/j1/flow'),
  board('GET', '/api/queues/:queueName/:jobId', 404, '/api/queues/maintenance/j1'),
  board('POST', '/api/queues/:queueName/add', 404, `/api/queues/${NOQ}/add`, { name: 'x', data: {} }),
  board('PUT', '/api/queues/:queueName/retry/:queueStatus', 404, `/api/queues/${NOQ}/retry/failed`),
  board('PUT', '/api/queues/:queueName/promote', 404, `/api/queues/${NOQ}/promote`),
  board('PUT', '/api/queues/:queueName/clean/:queueStatus', 404, `/api/queues/${NOQ}/clean/failed`),
  board('PUT', '/api/queues/:queueName/pause', 404, `/api/queues/${NOQ}/pause`),
  board('PUT', '/api/queues/:queueName/resume', 404, `/api/queues/${NOQ}/resume`),
  board('PUT', '/api/queues/:queueName/concurrency', 404, `/api/queues/${NOQ}/concurrency`, { concurrency: 2 }),
  board('PUT', '/api/queues/:queueName/rate-limit', 404, `/api/queues/${NOQ}/rate-limit`, { max: 10, duration: 1000 }),
  board('PUT', '/api/queues/:queueName/rate-limit/release', 404, `/api/queues/${NOQ}/rate-limit/release`),
  board('PUT', '/api/queues/:queueName/empty', 404, `/api/queues/${NOQ}/empty`),
  board('PUT', '/api/queues/:queueName/obliterate', 404, `/api/queues/${NOQ}/obliterate`),
  board('PUT', '/api/queues/:queueName/job-schedulers/:schedulerId/remove', 404, `/api/queues/${NOQ}/job-schedulers/s1/remove`),
  board('PATCH', '/api/queues/:queueName/job-schedulers/:schedulerId', 404, `/api/queues/${NOQ}/job-schedulers/s1`, { every: 60_000 }),
  board('PUT', '/api/queues/:queueName/job-schedulers/:schedulerId/run', 404, `/api/queues/${NOQ}/job-schedulers/s1/run`),
  board('PUT', '/api/queues/:queueName/:jobId/retry', 404, `/api/queues/${NOQ}/j1/retry`),
  board('PUT', '/api/queues/:queueName/:jobId/clean', 404, `/api/queues/${NOQ}/j1/clean`),
  board('PUT', '/api/queues/:queueName/:jobId/promote', 404, `/api/queues/${NOQ}/j1/promote`),
  board('PATCH', '/api/queues/:queueName/:jobId/update-data', 404, `/api/queues/${NOQ}/j1/update-data`, { jobData: {} }),
  board('PATCH', '/api/queues/:queueName/:jobId/delay', 404, `/api/queues/${NOQ}/j1/delay`, { runAt: Date.now() + 60_000 }),
  board('PATCH', '/api/queues/:queueName/:jobId/priority', 404, `/api/queues/${NOQ}/j1/priority`, { priority: 1 }),
  board('PUT', '/api/queues/:queueName/:jobId/remove-unprocessed-children', 404, `/api/queues/${NOQ}/j1/remove-unprocessed-children`),
  board('GET', '/static/*', 200, '/static/favicon-32x32.png'),
];

export const ROUTE_POLICIES: RoutePolicy[] = DECLARED.map((p) => {
  const withDpo = p.expect.dpo === undefined || hiddenFrom(p, 'dpo') ? { ...p, expect: { ...p.expect, dpo: dpoDefault(p) } } : p;
  return evaluatorHidden(withDpo) ? { ...withDpo, expect: { ...withDpo.expect, evaluator: NONE } } : withDpo;
});

export const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

export function policyOf(method: string, url: string): RoutePolicy | undefined {
  return ROUTE_POLICIES.find((p) => p.method === method && p.url === url);
}

/** The status a role gets for an object in `relation` (null: not applicable); routes without a target ignore it. */
export function expected(p: RoutePolicy, role: Role, relation: Relation = 'own'): number | null {
  const e = p.expect[role] ?? 403;
  return typeof e === 'number' ? (relation === 'own' ? e : null) : e[relation];
}

/** Roles with any non-403 answer: what routeTable's auth array must list (an evaluator's 404 on a case route is the auth plugin's, not the route's). */
export function allowedRoles(p: RoutePolicy): Role[] {
  return ROLES.filter((r) => {
    if ((r === 'evaluator' || r === 'dpo') && hiddenFrom(p, r)) return false;
    const e = p.expect[r];
    if (e === undefined) return false;
    return typeof e === 'number' ? e !== 403 : Object.values(e).some((s) => s !== null && s !== 403);
  });
}

/** A role that gets the route's success status on its own object (for fuzzing and mass assignment). */
export function actingRole(p: RoutePolicy): Role | undefined {
  const order: Role[] = ['lead', 'intervener', 'analyst', 'admin', 'dpo'];
  return order.find((r) => {
    const s = expected(p, r, 'own');
    return s !== null && s < 300;
  });
}

export function isPublic(p: RoutePolicy): boolean {
  return p.auth === 'public';
}

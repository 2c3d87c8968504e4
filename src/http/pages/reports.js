// The report page (engagement and trials): a plain ES module, no build step. Chart.js (UMD build) loads first.
// The token lives in sessionStorage only: it goes with the tab, never into localStorage or a cookie.

const TOKEN_KEY = 'overture.token';
/** Who may read reports (API.md: reports are for leads and evaluators). */
const READERS = ['lead', 'evaluator'];
const DAY_MS = 86_400_000;
const STAGES = ['flagged', 'accepted', 'contacted', 'responded', 'sustained', 'positive'];
const RATES = [
  { field: 'responseRate', label: 'Response rate', color: '#1f5fa8' },
  { field: 'sustainedRate', label: 'Sustained rate', color: '#2e7d32' },
  { field: 'positiveRate', label: 'Positive rate', color: '#b25e00' },
];
const SERIES = [
  { field: 'contacted', label: 'Contacted', color: '#1f5fa8' },
  { field: 'responded', label: 'Responded', color: '#2e7d32' },
  { field: 'sustained', label: 'Sustained', color: '#b25e00' },
];

const $ = (id) => document.getElementById(id);
// Wide tables scroll in their own box: focusable, so a keyboard can scroll them (set here, not in the markup, where lint refuses tabindex on a section).
for (const wrap of document.querySelectorAll('.table-wrap')) wrap.tabIndex = 0;
const el = {
  alert: $('alert'),
  tokenForm: $('token-form'),
  token: $('token'),
  signedIn: $('signed-in'),
  who: $('who'),
  forget: $('forget-token'),
  queryForm: $('query-form'),
  program: $('program'),
  from: $('from'),
  to: $('to'),
  groupBy: $('group-by'),
  interval: $('interval'),
  show: $('show'),
  download: $('download'),
  report: $('report'),
  freshness: $('freshness'),
  asOf: $('as-of'),
  definition: $('definition'),
  definitionSummary: $('definition-summary'),
  positiveSource: $('positive-source'),
  table: $('report-table'),
  caption: $('table-caption'),
  comparison: $('comparison'),
  comparisonTable: $('comparison-table'),
  comparisonCaption: $('comparison-caption'),
  ratesSuppressed: $('rates-suppressed'),
  funnelSuppressed: $('funnel-suppressed'),
  trendInterval: $('trend-interval'),
  trendSuppressed: $('trend-suppressed'),
  trials: $('trials'),
  trialForm: $('trial-form'),
  trial: $('trial'),
  showTrial: $('show-trial'),
  noTrials: $('no-trials'),
  trialReport: $('trial-report'),
  trialTitle: $('trial-title'),
  trialStatus: $('trial-status'),
  analysisNote: $('analysis-note'),
  trialArmsTable: $('trial-arms-table'),
  trialArmsCaption: $('trial-arms-caption'),
  trialComparisonsTable: $('trial-comparisons-table'),
  trialComparisonsCaption: $('trial-comparisons-caption'),
  trialMdd: $('trial-mdd'),
  welfare: $('welfare'),
  welfareForm: $('welfare-form'),
  welfareFrom: $('welfare-from'),
  welfareTo: $('welfare-to'),
  showWelfare: $('show-welfare'),
  welfareReport: $('welfare-report'),
  welfareSummary: $('welfare-summary'),
  welfareDefinition: $('welfare-definition'),
  welfareExposureTable: $('welfare-exposure-table'),
  welfareExposureCaption: $('welfare-exposure-caption'),
  welfareDebriefsTable: $('welfare-debriefs-table'),
  welfareDebriefsCaption: $('welfare-debriefs-caption'),
  welfareSupervisionTable: $('welfare-supervision-table'),
  welfareSupervisionCaption: $('welfare-supervision-caption'),
};

/** The query of the report on screen; Download CSV fetches exactly this one. */
let shown = null;
/** The trials of the program picked (by id), and the trial report on screen. */
let trials = new Map();
let shownTrial = null;
const charts = {};

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

// ---- formatting -------------------------------------------------------------------------

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fmt = {
  count: (n) => integer.format(n),
  pct: (x) => (x * 100).toFixed(1),
  rate: (r) => `${fmt.pct(r.value)}% (${fmt.pct(r.ci95[0])}–${fmt.pct(r.ci95[1])}%)`,
  hours: (h) => h.toFixed(1),
  money: (cents) => (cents / 100).toFixed(2),
  diff: (d) => `${fmt.signed(d)} pp`,
  signed: (d) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d * 100).toFixed(1)}`,
  /** A difference with its 95% interval: `+12.5 pp (−3.0 to +27.1)`. */
  diffCi: (d) => `${fmt.diff(d.value)} (${fmt.signed(d.ci95[0])} to ${fmt.signed(d.ci95[1])})`,
  p: (p) => (p < 0.001 ? '< 0.001' : p.toFixed(3)),
  day: (iso) => String(iso).slice(0, 10),
  time: (iso) => `${String(iso).slice(0, 16).replace('T', ' ')} UTC`,
};

const HIDDEN_TEXT = 'hidden (small number)';
const HIDDEN_TITLE = 'Hidden: fewer cases than the program’s minimum cell size, so that nobody can be picked out';

/** The marker of a small cell: said in words, never a blank or a colour alone. */
function hiddenMark() {
  const span = document.createElement('span');
  span.className = 'suppressed';
  span.textContent = HIDDEN_TEXT;
  span.title = HIDDEN_TITLE;
  return span;
}

/** A value that does not exist (nothing to compare), as opposed to one that is hidden. */
function noValue(title = 'No data') {
  const span = document.createElement('span');
  span.className = 'na';
  span.textContent = '—';
  span.title = title;
  return span;
}

const isoDay = (d) => d.toISOString().slice(0, 10);

function groupLabel(groupBy, row) {
  const group = row.group;
  if (group === 'total') return { text: 'Total', title: 'All cases in the period' };
  if (groupBy === 'intervener')
    return row.name ? { text: row.name, title: `Staff ${group}` } : { text: `${group.slice(0, 8)}…`, title: `Staff ${group}` };
  return { text: group, title: '' };
}

// ---- API --------------------------------------------------------------------------------

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, { accept = 'application/json', bearer = token() } = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${bearer}`, accept }, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, { detail: `The server could not be reached (${err.message}).` });
  }
  if (!res.ok) {
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      // Not problem+json (a proxy page, say): the status alone has to do.
    }
    throw new ApiError(res.status, problem);
  }
  return res;
}

const getJson = async (path, opts) => (await api(path, opts)).json();

// ---- alert region -----------------------------------------------------------------------

function showError(err) {
  el.alert.replaceChildren();
  const p = err instanceof ApiError ? err.problem : null;
  const head = document.createElement('strong');
  head.textContent = err instanceof ApiError && err.status ? `${p?.title || 'Error'} (${err.status})` : 'Error';
  const detail = document.createElement('span');
  detail.className = 'detail';
  detail.textContent = err.message;
  el.alert.append(head, ' ', detail);
  if (p?.code) {
    const code = document.createElement('code');
    code.textContent = p.code;
    el.alert.append(' ', code);
  }
  if (Array.isArray(p?.errors) && p.errors.length) {
    const list = document.createElement('ul');
    for (const e of p.errors) {
      const li = document.createElement('li');
      li.textContent = `${e.path}: ${e.message}`;
      list.append(li);
    }
    el.alert.append(list);
  }
  el.alert.hidden = false;
}

function clearError() {
  el.alert.hidden = true;
  el.alert.replaceChildren();
}

// ---- token and programs -----------------------------------------------------------------

async function useToken(candidate) {
  const me = await getJson('/v1/me', { bearer: candidate });
  if (!READERS.includes(me.role)) {
    // Say what is wrong in words, before any other request is refused with a bare 403.
    throw new ApiError(0, {
      detail: `Reports are for program leads and evaluators. This token belongs to ${me.name}, whose role is ${me.role}: ask your program lead for the figures, or use a lead's or an evaluator's token.`,
    });
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  el.who.textContent = `${me.name} (${me.role})`;
  el.tokenForm.hidden = true;
  el.signedIn.hidden = false;
  el.token.value = '';
  await loadPrograms(me);
  await loadTrials();
  // Welfare is about staff and is for their leads alone: an evaluator's page has no trace of it.
  resetWelfare();
  el.welfare.hidden = me.role !== 'lead';
}

async function loadPrograms(me) {
  const ownProgramId = me.programId;
  if (me.role !== 'lead') {
    // An evaluator reads the reports of their own program but not the program itself (no name to show).
    const o = document.createElement('option');
    o.value = ownProgramId ?? '';
    o.textContent = ownProgramId ? 'Your program' : 'No program visible to this token';
    el.program.replaceChildren(o);
    el.program.disabled = !ownProgramId;
    return;
  }
  const programs = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const q = new URLSearchParams({ limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const body = await getJson(`/v1/programs?${q}`);
    programs.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  el.program.replaceChildren(
    ...programs.map((p) => {
      const o = document.createElement('option');
      o.value = p.id;
      o.textContent = p.name;
      return o;
    }),
  );
  if (programs.length === 0) {
    const o = document.createElement('option');
    o.value = '';
    o.textContent = 'No program visible to this token';
    el.program.append(o);
  }
  if (ownProgramId && programs.some((p) => p.id === ownProgramId)) el.program.value = ownProgramId;
  el.program.disabled = programs.length === 0;
}

function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  shown = null;
  el.signedIn.hidden = true;
  el.tokenForm.hidden = false;
  el.who.textContent = '';
  const o = document.createElement('option');
  o.value = '';
  o.textContent = 'Enter a token first';
  el.program.replaceChildren(o);
  el.program.disabled = true;
  el.download.disabled = true;
  el.report.hidden = true;
  el.freshness.hidden = true;
  resetTrials();
  resetWelfare();
  el.welfare.hidden = true;
  for (const key of Object.keys(charts)) {
    charts[key].destroy();
    delete charts[key];
  }
  clearError();
  el.token.focus();
}

// ---- the report -------------------------------------------------------------------------

function readQuery() {
  const q = {
    programId: el.program.value,
    from: el.from.value,
    to: el.to.value,
    groupBy: el.groupBy.value,
    interval: el.interval.value,
  };
  if (!q.programId) throw new ApiError(0, { detail: 'Pick a program.' });
  if (!q.from || !q.to) throw new ApiError(0, { detail: 'Pick both dates.' });
  if (q.from >= q.to) throw new ApiError(0, { detail: '“Flagged from” must be before “Flagged before”.' });
  return q;
}

const reportUrl = (q, format) => {
  const params = new URLSearchParams({ programId: q.programId, from: q.from, to: q.to, groupBy: q.groupBy });
  if (format) params.set('format', format);
  return `/v1/reports/engagement?${params}`;
};
const trendUrl = (q) =>
  `/v1/reports/engagement/trend?${new URLSearchParams({ programId: q.programId, interval: q.interval, from: q.from, to: q.to })}`;

async function showReport() {
  clearError();
  const q = readQuery();
  el.show.disabled = true;
  el.report.setAttribute('aria-busy', 'true');
  try {
    const [report, trend] = await Promise.all([getJson(reportUrl(q)), getJson(trendUrl(q))]);
    shown = q;
    renderFreshness(report);
    el.report.hidden = false;
    renderTable(q, report);
    renderCharts(q, report.rows, trend);
    el.download.disabled = false;
    // A counter that scripts (and tests) can wait on: it changes once this report is on screen.
    el.report.dataset.rendered = String(Number(el.report.dataset.rendered ?? 0) + 1);
  } finally {
    el.show.disabled = false;
    el.report.removeAttribute('aria-busy');
  }
}

/** The definition's keys as a reader would say them; an unknown key is shown as it is. */
const DEFINITION_LABELS = {
  cohort: 'Which cases',
  flagged: 'Flagged',
  accepted: 'Accepted',
  contacted: 'Contacted',
  responded: 'Responded',
  sustained: 'Sustained',
  positive: 'Positive change',
  positiveSource: 'Positive figure from',
  pendingReview: 'Waiting for review',
  rates: 'Rates',
  medianHoursToFirstResponse: 'Median hours to first response',
  costPerSustainedCents: 'Cost per sustained case',
  sustainedMinMessages: 'Messages for “sustained”',
  sustainedMinInbound: 'Replies for “sustained”',
  minCellSize: 'Smallest group shown',
  suppression: 'Small groups',
  intervener: 'By intervener',
  approach: 'By approach',
  vsRest: 'Compared with the rest',
  stageRulesNote: 'When stages are decided',
};

function renderFreshness(report) {
  el.asOf.dateTime = report.asOf;
  el.asOf.textContent = `${report.asOf.slice(0, 19).replace('T', ' ')} UTC`;
  const d = report.definition ?? {};
  // The definition in one sentence; the full list stays folded away under it.
  el.definitionSummary.textContent =
    `A case counts as sustained after ${d.sustainedMinMessages} messages, ${d.sustainedMinInbound} of them replies; ` +
    `rates are over contacted cases with 95% intervals; groups smaller than ${d.minCellSize} are hidden.`;
  // Whether the positive figure was checked by independent review, and how many closed cases still wait for it.
  const total = report.rows.at(-1);
  el.positiveSource.textContent =
    d.positiveSource === 'reviewed'
      ? `Positive change counts reviewed outcomes only; ${total?.pendingReview == null ? 'a suppressed number of' : fmt.count(total.pendingReview)} closed cases wait for review.`
      : 'Positive change is self-reported by whoever closed the case.';
  el.definition.replaceChildren();
  for (const [key, value] of Object.entries(d)) {
    const dt = document.createElement('dt');
    dt.textContent = DEFINITION_LABELS[key] ?? key;
    dt.dataset.key = key;
    const dd = document.createElement('dd');
    dd.textContent = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    el.definition.append(dt, dd);
  }
  el.freshness.hidden = false;
}

/** The figures every grouping has (and, under outcome review, the backlog); each approach's comparison with the rest has a table of its own. */
function columns(definition) {
  const reviewed = definition?.positiveSource === 'reviewed';
  const label = (s) =>
    s === 'positive' ? (reviewed ? 'Positive (reviewed)' : 'Positive (self-reported)') : s[0].toUpperCase() + s.slice(1);
  return [
    ...STAGES.map((s) => ({ field: s, label: label(s), num: true, show: fmt.count })),
    ...(reviewed ? [{ field: 'pendingReview', label: 'Waiting for review', num: true, show: fmt.count }] : []),
    ...RATES.map((r) => ({ field: r.field, label: r.label, num: true, rate: true, show: fmt.rate })),
    { field: 'medianHoursToFirstResponse', label: 'Median hours to first response', num: true, show: fmt.hours },
    { field: 'costPerSustainedCents', label: 'Cost per sustained', num: true, show: fmt.money },
  ];
}

/**
 * For groupBy=approach: kept apart so that neither table is wider than a laptop screen. The crude
 * sustained-rate figures and the adjusted (like with like) one sit side by side.
 */
const CRUDE = 'Sustained rate: crude (as observed)';
const ADJUSTED = 'Sustained rate: adjusted, like with like (Mantel-Haenszel)';
const RESPONSE = 'Response rate: crude';
const NO_STRATUM = 'No ideology and risk group holds both this approach and other contacted cases';
const COMPARISON_COLUMNS = [
  { field: 'vsRest.sustainedRateDiff', group: CRUDE, label: 'Difference vs rest', num: true, show: fmt.diff },
  { field: 'vsRest.pValue', group: CRUDE, label: 'p-value', num: true, show: fmt.p },
  { field: 'vsRest.pValueAdjusted', group: CRUDE, label: 'p-value, Holm-adjusted', num: true, show: fmt.p },
  {
    field: 'vsRest.adjusted',
    group: ADJUSTED,
    label: 'Difference vs rest (95% interval)',
    num: true,
    wide: true,
    none: NO_STRATUM,
    show: (a) => fmt.diffCi({ value: a.sustainedRateDiff, ci95: a.ci95 }),
  },
  {
    field: 'vsRest.adjusted.strata',
    group: ADJUSTED,
    label: 'Ideology × risk groups compared',
    num: true,
    none: NO_STRATUM,
    show: fmt.count,
  },
  { field: 'vsRest.responseRateDiff', group: RESPONSE, label: 'Difference vs rest', num: true, show: fmt.diff },
  { field: 'vsRest.responsePValue', group: RESPONSE, label: 'p-value', num: true, show: fmt.p },
];

/** A field by its dotted path; null as soon as a step is missing. */
function pick(row, field) {
  let value = row;
  for (const key of field.split('.')) {
    if (value == null) return null;
    value = value[key];
  }
  return value ?? null;
}

/** A caption's text in a span of its own, which the phone layout keeps in view while a wide table scrolls. */
function setCaption(caption, text) {
  const span = document.createElement('span');
  span.textContent = text;
  caption.replaceChildren(span);
}

function renderTable(q, report) {
  const rows = report.rows;
  const program = el.program.selectedOptions[0]?.textContent ?? q.programId;
  const by = el.groupBy.selectedOptions[0].textContent.toLowerCase();
  setCaption(el.caption, `${program}: cases flagged from ${q.from} to before ${q.to}, by ${by}`);
  fillTable(el.table, q, columns(report.definition), rows);
  el.comparison.hidden = q.groupBy !== 'approach';
  if (q.groupBy === 'approach') {
    setCaption(
      el.comparisonCaption,
      `${program}: each approach against all other contacted cases, flagged from ${q.from} to before ${q.to}`,
    );
    fillTable(
      el.comparisonTable,
      q,
      COMPARISON_COLUMNS,
      rows.filter((r) => r.group !== 'total'),
    );
  }
}

/**
 * The head of a table: one row of column headers, or, when columns name a group, a row of groups
 * (with matching <colgroup>s, so scope="colgroup" means what it says) over the column headers.
 */
function fillHead(table, cols, first = 'Group') {
  const th = (text, scope, cls) => {
    const cell = document.createElement('th');
    cell.scope = scope;
    cell.textContent = text;
    if (cls) cell.className = cls;
    return cell;
  };
  const grouped = cols.some((c) => c.group);
  for (const old of table.querySelectorAll('colgroup')) old.remove();
  if (!grouped) {
    const headRow = document.createElement('tr');
    headRow.append(th(first, 'col'), ...cols.map((c) => th(c.label, 'col', c.num ? 'num' : '')));
    table.tHead.replaceChildren(headRow);
    return;
  }
  const spans = [];
  for (const c of cols) {
    const last = spans.at(-1);
    if (last && last.group === c.group) last.span++;
    else spans.push({ group: c.group, span: 1 });
  }
  const colgroups = [{ span: 1 }, ...spans].map((g) => {
    const cg = document.createElement('colgroup');
    cg.span = g.span;
    return cg;
  });
  table.tHead.before(...colgroups);
  const top = document.createElement('tr');
  const corner = th(first, 'col');
  corner.rowSpan = 2;
  top.append(corner);
  for (const g of spans) {
    const cell = th(g.group ?? '', 'colgroup', 'group');
    cell.colSpan = g.span;
    top.append(cell);
  }
  const bottom = document.createElement('tr');
  bottom.append(...cols.map((c) => th(c.label, 'col', c.num ? 'num' : '')));
  table.tHead.replaceChildren(top, bottom);
}

/** One body cell: the value as its column shows it, the hidden marker, or a dash for nothing to show. */
function cell(c, value, hidden) {
  const td = document.createElement('td');
  td.dataset.field = c.field;
  if (c.num) td.className = c.rate || c.wide ? 'num rate' : 'num';
  if (value == null) td.append(hidden ? hiddenMark() : noValue(c.none));
  else if (c.rate) {
    // The value, then its interval kept on one line; the cell may wrap between the two.
    const ci = document.createElement('span');
    ci.className = 'ci';
    ci.textContent = `(${fmt.pct(value.ci95[0])}–${fmt.pct(value.ci95[1])}%)`;
    td.append(`${fmt.pct(value.value)}% `, ci);
  } else if (c.wide) {
    // A difference and its interval: may wrap before the interval.
    const text = c.show(value);
    const at = text.indexOf(' (');
    const ci = document.createElement('span');
    ci.className = 'ci';
    ci.textContent = text.slice(at + 1);
    td.append(`${text.slice(0, at)} `, ci);
  } else td.textContent = c.show(value);
  return td;
}

function fillTable(table, q, cols, rows) {
  fillHead(table, cols);
  const body = rows.map((row) => {
    const tr = document.createElement('tr');
    tr.dataset.group = row.group;
    if (row.group === 'total') tr.className = 'total';
    if (row.suppressed) tr.classList.add('is-suppressed');
    const th = document.createElement('th');
    th.scope = 'row';
    const label = groupLabel(q.groupBy, row);
    th.textContent = label.text;
    if (label.title) th.title = label.title;
    tr.append(th, ...cols.map((c) => cell(c, pick(row, c.field), row.suppressed)));
    return tr;
  });
  table.tBodies[0].replaceChildren(...body);
}

// ---- trials -----------------------------------------------------------------------------

function resetTrials() {
  trials = new Map();
  shownTrial = null;
  el.trials.hidden = true;
  el.trialReport.hidden = true;
  el.noTrials.hidden = true;
  const o = document.createElement('option');
  o.value = '';
  o.textContent = 'Pick a program first';
  el.trial.replaceChildren(o);
  el.trial.disabled = true;
  el.showTrial.disabled = true;
}

const trialOptionText = (t) =>
  t.status === 'running'
    ? `${t.name} (running since ${fmt.day(t.startedAt)})`
    : `${t.name} (stopped ${fmt.day(t.stoppedAt ?? t.startedAt)})`;

/** The program's trials, newest first, into the picker; the newest is picked. */
async function loadTrials() {
  const programId = el.program.value;
  resetTrials();
  if (!programId) return;
  const { items } = await getJson(`/v1/programs/${encodeURIComponent(programId)}/trials`);
  trials = new Map(items.map((t) => [t.id, t]));
  el.trials.hidden = false;
  // No trial yet: say so, instead of an empty picker.
  el.noTrials.hidden = items.length > 0;
  el.trialForm.hidden = items.length === 0;
  if (items.length === 0) return;
  el.trial.replaceChildren(
    ...items.map((t) => {
      const o = document.createElement('option');
      o.value = t.id;
      o.textContent = trialOptionText(t);
      return o;
    }),
  );
  el.trial.disabled = false;
  el.showTrial.disabled = false;
}

async function showTrial() {
  clearError();
  const id = el.trial.value;
  if (!id) throw new ApiError(0, { detail: 'Pick a trial.' });
  el.showTrial.disabled = true;
  el.trialReport.setAttribute('aria-busy', 'true');
  try {
    const report = await getJson(`/v1/reports/trials/${encodeURIComponent(id)}`);
    shownTrial = { report, trial: trials.get(id) ?? null };
    el.trialReport.hidden = false;
    renderTrial();
    el.trialReport.dataset.rendered = String(Number(el.trialReport.dataset.rendered ?? 0) + 1);
  } finally {
    el.showTrial.disabled = false;
    el.trialReport.removeAttribute('aria-busy');
  }
}

/** The case fields a trial may stratify by, as a reader would say them. */
const STRATA = { ideology: 'ideology', riskLevel: 'risk level', platform: 'platform' };

const ANALYSES = {
  itt: {
    name: 'intention to treat',
    note: 'Intention to treat: every case counts in the arm it was allocated, whatever approach its first message used and whether or not it was reached. The lot decided the arms, so this is the fair comparison; rates are over allocated cases.',
    arms: [
      { field: 'allocated', label: 'Allocated', num: true, show: fmt.count },
      { field: 'contacted', label: 'Contacted', num: true, show: fmt.count },
      { field: 'responded', label: 'Responded', num: true, show: fmt.count },
      { field: 'sustained', label: 'Sustained', num: true, show: fmt.count },
      { field: 'responseRate', label: 'Response rate (of allocated)', num: true, rate: true },
      { field: 'sustainedRate', label: 'Sustained rate (of allocated)', num: true, rate: true },
      { field: 'compliance', label: 'First message used the arm (of contacted)', num: true, rate: true },
    ],
  },
  pp: {
    name: 'per protocol',
    note: 'Per protocol: only the cases whose first outbound message used their arm. It shows what an approach does when it is used, but the cases that followed their arm may differ from those that did not: read it beside intention to treat, not instead of it. Rates are over these cases.',
    arms: [
      { field: 'allocated', label: 'Cases that used their arm', num: true, show: fmt.count },
      { field: 'responded', label: 'Responded', num: true, show: fmt.count },
      { field: 'sustained', label: 'Sustained', num: true, show: fmt.count },
      { field: 'responseRate', label: 'Response rate', num: true, rate: true },
      { field: 'sustainedRate', label: 'Sustained rate', num: true, rate: true },
    ],
  },
};

const TRIAL_COMPARISON_COLUMNS = [
  { field: 'sustainedRateDiff', label: 'Sustained rate difference (95% interval)', num: true, wide: true, show: fmt.diffCi },
  { field: 'pValue', label: 'p-value, sustained', num: true, show: fmt.p },
  { field: 'pValueAdjusted', label: 'p-value, Holm-adjusted', num: true, show: fmt.p },
  { field: 'responseRateDiff', label: 'Response rate difference (95% interval)', num: true, wide: true, show: fmt.diffCi },
];

/** The detectable difference in words (or why there is none to give). */
function mddSentence(mdd, arms) {
  if (mdd == null && arms.some((a) => a.suppressed))
    return 'How small a difference this trial can detect is hidden while an arm is below the minimum cell size.';
  if (mdd == null) return 'How small a difference this trial can detect is not known until every arm has cases.';
  if (mdd >= 1) return 'With these arm sizes the trial cannot yet reliably detect any difference in sustained rate: it needs more cases.';
  const points = mdd * 100;
  const about = points < 1 ? points.toFixed(1) : String(Math.round(points));
  return `With these arm sizes the trial can detect a difference in sustained rate of about ${about} percentage points (80% power, two-sided test at 5%); a smaller true difference would probably go unnoticed.`;
}

function renderTrial() {
  if (!shownTrial) return;
  const { report, trial } = shownTrial;
  const key = el.trialReport.querySelector('input[name="analysis"]:checked')?.value === 'pp' ? 'pp' : 'itt';
  const analysis = ANALYSES[key];
  const data = key === 'pp' ? report.perProtocol : report;
  const reference = report.arms[0]?.arm;

  el.trialTitle.textContent = report.name;
  const when =
    report.status === 'running'
      ? `Running since ${fmt.time(report.startedAt)}`
      : `Ran from ${fmt.time(report.startedAt)} to ${fmt.time(report.stoppedAt)}`;
  const parts = [when, `arms: ${report.arms.map((a) => a.arm).join(', ')} (the first, ${reference}, is the reference)`];
  if (trial?.stratifyBy?.length) parts.push(`allocated separately by ${trial.stratifyBy.map((f) => STRATA[f] ?? f).join(' and ')}`);
  parts.push(`figures as of ${fmt.time(report.asOf)}`);
  el.trialStatus.textContent = `${parts.join(' · ')}.`;
  el.analysisNote.textContent = analysis.note;

  setCaption(el.trialArmsCaption, `${report.name}: arms, ${analysis.name}`);
  fillHead(el.trialArmsTable, analysis.arms, 'Arm');
  el.trialArmsTable.tBodies[0].replaceChildren(
    ...data.arms.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.group = row.arm;
      if (row.suppressed) tr.className = 'is-suppressed';
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = row.arm === reference ? `${row.arm} (reference)` : row.arm;
      tr.append(th, ...analysis.arms.map((c) => cell(c, row[c.field], row.suppressed)));
      return tr;
    }),
  );

  el.trialMdd.textContent = mddSentence(data.minimumDetectableDiff, data.arms);

  setCaption(el.trialComparisonsCaption, `${report.name}: each arm against ${reference}, ${analysis.name}`);
  fillHead(el.trialComparisonsTable, TRIAL_COMPARISON_COLUMNS, 'Comparison');
  const hiddenArm = new Set(data.arms.filter((a) => a.suppressed).map((a) => a.arm));
  el.trialComparisonsTable.tBodies[0].replaceChildren(
    ...data.comparisons.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.group = row.arm;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = `${row.arm} vs ${row.vs}`;
      // A missing figure is hidden when either arm it is built on is; otherwise there is nothing to compare yet.
      const hidden = hiddenArm.has(row.arm) || hiddenArm.has(row.vs);
      tr.append(
        th,
        ...TRIAL_COMPARISON_COLUMNS.map((c) => cell({ ...c, none: 'Nothing to compare yet (an arm has no cases)' }, row[c.field], hidden)),
      );
      return tr;
    }),
  );
  el.trialReport.dataset.analysis = key;
}

// ---- welfare (leads only) ---------------------------------------------------------------

function resetWelfare() {
  el.welfareReport.hidden = true;
  for (const table of [el.welfareExposureTable, el.welfareDebriefsTable, el.welfareSupervisionTable]) {
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
  }
}

async function showWelfare() {
  clearError();
  const q = { programId: el.program.value, from: el.welfareFrom.value, to: el.welfareTo.value };
  if (!q.programId) throw new ApiError(0, { detail: 'Pick a program.' });
  if (!q.from || !q.to) throw new ApiError(0, { detail: 'Pick both welfare dates.' });
  if (q.from >= q.to) throw new ApiError(0, { detail: '“From” must be before “Before”.' });
  el.showWelfare.disabled = true;
  el.welfareReport.setAttribute('aria-busy', 'true');
  try {
    const report = await getJson(`/v1/reports/welfare?${new URLSearchParams(q)}`);
    el.welfareReport.hidden = false;
    renderWelfare(report);
    el.welfareReport.dataset.rendered = String(Number(el.welfareReport.dataset.rendered ?? 0) + 1);
  } finally {
    el.showWelfare.disabled = false;
    el.welfareReport.removeAttribute('aria-busy');
  }
}

/** The welfare definition's keys as a reader would say them; an unknown key is shown as it is. */
const WELFARE_LABELS = {
  visibility: 'Who sees this',
  suppression: 'Small numbers',
  interveners: 'Who is listed',
  weeks: 'Weeks',
  exposure: 'Exposure',
  hours: 'Hours',
  weeklyExposureCap: 'Weekly exposure cap',
  capMinutes: 'Cap in minutes',
  overCap: 'At or over cap',
  debriefsOwed: 'Debriefs owed',
  debriefWithin: 'Debrief due within',
  debriefsOnTime: 'Done on time',
  debriefsPending: 'Still pending',
  debriefsOverdue: 'Overdue now',
  supervisionEvery: 'Supervision period',
  supervisionMinMinutes: 'Supervision needed (minutes)',
  supervisionPeriods: 'Supervision periods',
  shortPeriods: 'Short periods',
  team: 'Team rows',
};
const EVERY = { P1M: 'month', P3M: 'quarter', P6M: '6 months', P12M: 'year', P1W: 'week', P2W: '2 weeks', P4W: '4 weeks' };
const hours2 = (h) => h.toFixed(2);

/** A marker said in words (never a colour alone): "at or over cap", "short", "so far". */
function flag(text, cls, title) {
  const span = document.createElement('span');
  span.className = cls;
  span.textContent = text;
  span.title = title;
  return span;
}

function numCell(field, ...content) {
  const td = document.createElement('td');
  td.className = 'num';
  td.dataset.field = field;
  td.append(...content);
  return td;
}

function rowHead(text, title) {
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = text;
  if (title) th.title = title;
  return th;
}

function headRow(first, labels) {
  const tr = document.createElement('tr');
  for (const [i, label] of [first, ...labels].entries()) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.append(...(Array.isArray(label) ? label : [label]));
    if (i > 0) th.className = 'num';
    tr.append(th);
  }
  return tr;
}

/** A date that never breaks across lines (a header may wrap between words, not inside 2026-02-16). */
function nowrap(text) {
  const span = document.createElement('span');
  span.className = 'nowrap';
  span.textContent = text;
  return span;
}

/** A period as days (`2026-02-01 to 2026-02-28`), or as times when it is shorter than a day. */
function periodLabel(p) {
  const start = new Date(p.start);
  const end = new Date(p.end);
  if (end - start < DAY_MS) return [nowrap(fmt.time(p.start)), ' to ', nowrap(fmt.time(p.end))];
  return [nowrap(isoDay(start)), ' to ', nowrap(isoDay(new Date(end.getTime() - DAY_MS)))];
}

function intervenerRow(tr, r) {
  tr.dataset.group = r.id;
  tr.append(rowHead(r.active ? r.name : `${r.name} (left)`, `Staff ${r.id}`));
  return tr;
}

function renderWelfare(report) {
  const program = el.program.selectedOptions[0]?.textContent ?? report.programId;
  const every = EVERY[report.supervisionEvery] ?? report.supervisionEvery;
  el.welfareSummary.textContent =
    `Figures as of ${fmt.time(report.asOf)} for ${fmt.count(report.team.interveners)} interveners. ` +
    `Exposure cap: ${hours2(report.capHours)} hours a week each. Supervision: at least ${fmt.count(report.supervisionMinMinutes)} minutes every ${every}.`;
  el.welfareDefinition.replaceChildren();
  for (const [key, value] of Object.entries(report.definition ?? {})) {
    const dt = document.createElement('dt');
    dt.textContent = WELFARE_LABELS[key] ?? key;
    dt.dataset.key = key;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    el.welfareDefinition.append(dt, dd);
  }

  // Exposure: a column per UTC week, a row per intervener, then the team.
  const weeks = report.team.exposure.weeks.map((x) => fmt.day(x.weekStart));
  setCaption(
    el.welfareExposureCaption,
    `${program}: exposure in hours per week, from ${report.from} to before ${report.to} (cap ${hours2(report.capHours)} hours)`,
  );
  el.welfareExposureTable.tHead.replaceChildren(
    headRow('Intervener', [...weeks.map((d) => ['Week of ', nowrap(d)]), 'Weeks at or over cap']),
  );
  const overTitle = `At or over the weekly cap of ${hours2(report.capHours)} hours`;
  const exposureRows = report.interveners.map((r) => {
    const tr = intervenerRow(document.createElement('tr'), r);
    for (const [i, x] of r.exposure.weeks.entries()) {
      tr.append(numCell(weeks[i], hours2(x.hours), ...(x.overCap ? [' ', flag('at or over cap', 'flag', overTitle)] : [])));
    }
    tr.append(numCell('overCapWeeks', fmt.count(r.exposure.overCapWeeks)));
    if (r.exposure.overCapWeeks > 0) tr.classList.add('has-flag');
    return tr;
  });
  const teamHours = document.createElement('tr');
  teamHours.className = 'total';
  teamHours.dataset.group = 'team';
  teamHours.append(rowHead('Team (hours)', 'All interveners listed'));
  for (const [i, x] of report.team.exposure.weeks.entries()) teamHours.append(numCell(weeks[i], hours2(x.hours)));
  teamHours.append(numCell('overCapWeeks', fmt.count(report.team.exposure.overCapWeeks)));
  const teamOver = document.createElement('tr');
  teamOver.dataset.group = 'team-over-cap';
  teamOver.append(rowHead('Interveners at or over cap'));
  for (const [i, x] of report.team.exposure.weeks.entries()) teamOver.append(numCell(weeks[i], fmt.count(x.overCapInterveners)));
  teamOver.append(numCell('overCapWeeks', noValue('Counted per intervener in the row above')));
  el.welfareExposureTable.tBodies[0].replaceChildren(...exposureRows, teamHours, teamOver);

  // Debriefs owed in the window, by what became of them.
  const DEBRIEF_COLUMNS = [
    { field: 'owed', label: 'Owed' },
    { field: 'done', label: 'Done' },
    { field: 'onTime', label: 'Done on time' },
    { field: 'pending', label: 'Still pending' },
    { field: 'overdue', label: 'Overdue now' },
  ];
  setCaption(el.welfareDebriefsCaption, `${program}: debriefs owed from ${report.from} to before ${report.to}`);
  el.welfareDebriefsTable.tHead.replaceChildren(
    headRow(
      'Intervener',
      DEBRIEF_COLUMNS.map((c) => c.label),
    ),
  );
  const debriefCells = (tr, d) => {
    for (const c of DEBRIEF_COLUMNS) tr.append(numCell(c.field, fmt.count(d[c.field])));
    if (d.overdue > 0) tr.classList.add('has-flag');
    return tr;
  };
  const teamDebriefs = document.createElement('tr');
  teamDebriefs.className = 'total';
  teamDebriefs.dataset.group = 'team';
  teamDebriefs.append(rowHead('Team', 'All interveners listed'));
  el.welfareDebriefsTable.tBodies[0].replaceChildren(
    ...report.interveners.map((r) => debriefCells(intervenerRow(document.createElement('tr'), r), r.debriefs)),
    debriefCells(teamDebriefs, report.team.debriefs),
  );

  // Supervision: a column per period, minutes, with the short and unfinished periods said in words.
  const periods = report.team.supervision.periods.map(periodLabel);
  setCaption(
    el.welfareSupervisionCaption,
    `${program}: supervision minutes per ${every} (at least ${fmt.count(report.supervisionMinMinutes)} each)`,
  );
  el.welfareSupervisionTable.tHead.replaceChildren(headRow('Intervener', [...periods, 'Periods ended short']));
  const shortTitle = `Ended with less than ${report.supervisionMinMinutes} minutes`;
  const soFarTitle = 'This period has not ended yet';
  const supervisionRows = report.interveners.map((r) => {
    const tr = intervenerRow(document.createElement('tr'), r);
    for (const [i, x] of r.supervision.periods.entries()) {
      const mark = !x.ended ? [' ', flag('so far', 'pending', soFarTitle)] : x.short ? [' ', flag('short', 'flag', shortTitle)] : [];
      tr.append(numCell(`period-${i}`, fmt.count(x.minutes), ...mark));
    }
    tr.append(numCell('shortPeriods', fmt.count(r.supervision.shortPeriods)));
    if (r.supervision.shortPeriods > 0) tr.classList.add('has-flag');
    return tr;
  });
  const teamMinutes = document.createElement('tr');
  teamMinutes.className = 'total';
  teamMinutes.dataset.group = 'team';
  teamMinutes.append(rowHead('Team (minutes)', 'All interveners listed'));
  for (const [i, x] of report.team.supervision.periods.entries()) {
    teamMinutes.append(numCell(`period-${i}`, fmt.count(x.minutes), ...(!x.ended ? [' ', flag('so far', 'pending', soFarTitle)] : [])));
  }
  teamMinutes.append(numCell('shortPeriods', fmt.count(report.team.supervision.shortPeriods)));
  const teamShort = document.createElement('tr');
  teamShort.dataset.group = 'team-short';
  teamShort.append(rowHead('Interveners short'));
  for (const [i, x] of report.team.supervision.periods.entries()) {
    teamShort.append(
      numCell(`period-${i}`, fmt.count(x.shortInterveners), ...(!x.ended ? [' ', flag('so far', 'pending', soFarTitle)] : [])),
    );
  }
  teamShort.append(numCell('shortPeriods', noValue('Counted per intervener in the row above')));
  el.welfareSupervisionTable.tBodies[0].replaceChildren(...supervisionRows, teamMinutes, teamShort);
}

// ---- charts -----------------------------------------------------------------------------

/** Draws each bar's 95% interval as a whisker with caps, from the dataset's `ci` array. */
const ciWhiskers = {
  id: 'ciWhiskers',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const y = chart.scales.y;
    ctx.save();
    ctx.strokeStyle = '#1b1b1b';
    ctx.lineWidth = 1.5;
    chart.data.datasets.forEach((ds, i) => {
      if (!ds.ci || !chart.isDatasetVisible(i)) return;
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const ci = ds.ci[j];
        if (!ci) return;
        const top = y.getPixelForValue(ci[1] * 100);
        const bottom = y.getPixelForValue(ci[0] * 100);
        const cap = Math.max(3, Math.min(10, bar.width * 0.3));
        ctx.beginPath();
        ctx.moveTo(bar.x, top);
        ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - cap, top);
        ctx.lineTo(bar.x + cap, top);
        ctx.moveTo(bar.x - cap, bottom);
        ctx.lineTo(bar.x + cap, bottom);
        ctx.stroke();
      });
    });
    ctx.restore();
  },
};

function draw(key, config) {
  charts[key]?.destroy();
  charts[key] = new window.Chart($(`${key}-chart`), config);
}

function renderCharts(q, rows, trend) {
  if (typeof window.Chart !== 'function') {
    showError(new Error('The chart library did not load; the table below still has every figure.'));
    return;
  }
  const Chart = window.Chart;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.color = '#1b1b1b';
  const base = { responsive: true, maintainAspectRatio: false, animation: false };

  const total = rows.find((r) => r.group === 'total') ?? rows.at(-1);
  draw('funnel', {
    type: 'bar',
    data: {
      labels: STAGES.map((s) => s[0].toUpperCase() + s.slice(1)),
      datasets: [{ label: 'Cases', data: STAGES.map((s) => total?.[s] ?? null), backgroundColor: '#1f5fa8' }],
    },
    options: { ...base, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });

  const hiddenStages = STAGES.filter((s) => total && total[s] == null);
  el.funnelSuppressed.hidden = hiddenStages.length === 0;
  el.funnelSuppressed.textContent = hiddenStages.length ? `Hidden (too few cases to show): ${hiddenStages.join(', ')}.` : '';

  const labels = rows.map((r) => groupLabel(q.groupBy, r).text);
  draw('rates', {
    type: 'bar',
    data: {
      labels,
      datasets: RATES.map((r) => ({
        label: r.label,
        data: rows.map((row) => (row[r.field] ? row[r.field].value * 100 : null)),
        ci: rows.map((row) => row[r.field]?.ci95 ?? null),
        rates: rows.map((row) => row[r.field] ?? null),
        backgroundColor: `${r.color}b3`,
        borderColor: r.color,
        borderWidth: 1,
      })),
    },
    options: {
      ...base,
      scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => {
              const rate = item.dataset.rates[item.dataIndex];
              return `${item.dataset.label}: ${rate ? fmt.rate(rate) : HIDDEN_TEXT}`;
            },
          },
        },
      },
    },
    plugins: [ciWhiskers],
  });
  const hidden = rows.filter((r) => r.suppressed).map((r) => groupLabel(q.groupBy, r).text);
  el.ratesSuppressed.hidden = hidden.length === 0;
  el.ratesSuppressed.textContent = hidden.length ? `Some figures hidden (too few cases to show) for: ${hidden.join(', ')}.` : '';

  el.trendInterval.textContent = trend.interval;
  const hiddenBuckets = trend.buckets.filter((b) => b.suppressed).length;
  el.trendSuppressed.hidden = hiddenBuckets === 0;
  el.trendSuppressed.textContent = hiddenBuckets
    ? `${hiddenBuckets} ${trend.interval}${hiddenBuckets === 1 ? ' has' : 's have'} hidden figures (too few cases to show); the lines have gaps there.`
    : '';
  draw('trend', {
    type: 'line',
    data: {
      labels: trend.buckets.map((b) => String(b.start).slice(0, 10)),
      datasets: SERIES.map((s) => ({
        label: s.label,
        data: trend.buckets.map((b) => b[s.field]),
        borderColor: s.color,
        backgroundColor: s.color,
        tension: 0,
        pointRadius: 2,
      })),
    },
    options: { ...base, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, interaction: { mode: 'index', intersect: false } },
  });
}

// ---- CSV --------------------------------------------------------------------------------

async function downloadCsv() {
  if (!shown) return;
  clearError();
  const q = shown;
  const res = await api(reportUrl(q, 'csv'), { accept: 'text/csv' });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `engagement-${q.groupBy}-${q.from}-${q.to}.csv`;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ---- wiring -----------------------------------------------------------------------------

function guarded(fn) {
  return async (event) => {
    event?.preventDefault();
    try {
      await fn(event);
    } catch (err) {
      showError(err);
    }
  };
}

function init() {
  // Dates are UTC days, as the API reads them; `to` is exclusive, so tomorrow makes today count.
  const tomorrow = new Date(Date.now() + DAY_MS);
  el.to.value = isoDay(tomorrow);
  el.from.value = isoDay(new Date(tomorrow.getTime() - 90 * DAY_MS));
  el.welfareTo.value = isoDay(tomorrow);
  // The last eight whole UTC weeks, this one included: from the Monday seven weeks before this week's.
  const today = new Date();
  const monday = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - ((today.getUTCDay() + 6) % 7) * DAY_MS;
  el.welfareFrom.value = isoDay(new Date(monday - 7 * 7 * DAY_MS));

  el.tokenForm.addEventListener(
    'submit',
    guarded(async () => {
      const candidate = el.token.value.trim();
      if (!candidate) throw new ApiError(0, { detail: 'Paste your API token (ovt_…).' });
      await useToken(candidate);
    }),
  );
  el.forget.addEventListener('click', () => forgetToken());
  el.queryForm.addEventListener('submit', guarded(showReport));
  el.program.addEventListener('change', guarded(loadTrials));
  el.program.addEventListener('change', () => resetWelfare());
  el.welfareForm.addEventListener('submit', guarded(showWelfare));
  el.trialForm.addEventListener('submit', guarded(showTrial));
  for (const radio of el.trialReport.querySelectorAll('input[name="analysis"]')) radio.addEventListener('change', () => renderTrial());
  el.download.addEventListener('click', guarded(downloadCsv));

  const saved = token();
  if (saved) {
    el.tokenForm.hidden = true;
    useToken(saved).catch((err) => {
      if (err.status === 401) forgetToken();
      el.tokenForm.hidden = false;
      showError(err);
    });
  }
}

init();

// The engagement report page: a plain ES module, no build step. Chart.js (UMD build) loads first.
// The token lives in sessionStorage only: it goes with the tab, never into localStorage or a cookie.

const TOKEN_KEY = 'overture.token';
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
};

/** The query of the report on screen; Download CSV fetches exactly this one. */
let shown = null;
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
  diff: (d) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d * 100).toFixed(1)} pp`,
  p: (p) => (p < 0.001 ? '< 0.001' : p.toFixed(3)),
};

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
  if (me.role !== 'lead') {
    // Say what is wrong in words, before any other request is refused with a bare 403.
    throw new ApiError(0, {
      detail: `Engagement reports are for program leads. This token belongs to ${me.name}, whose role is ${me.role}: ask your program lead for the figures, or use a lead's token.`,
    });
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  el.who.textContent = `${me.name} (${me.role})`;
  el.tokenForm.hidden = true;
  el.signedIn.hidden = false;
  el.token.value = '';
  await loadPrograms(me.programId);
}

async function loadPrograms(ownProgramId) {
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

/** For groupBy=approach: kept apart so that neither table is wider than a laptop screen. */
const COMPARISON_COLUMNS = [
  { field: 'vsRest.responseRateDiff', label: 'Response rate vs rest', num: true, show: fmt.diff },
  { field: 'vsRest.responsePValue', label: 'p-value, response (vs rest)', num: true, show: fmt.p },
  { field: 'vsRest.sustainedRateDiff', label: 'Sustained rate vs rest', num: true, show: fmt.diff },
  { field: 'vsRest.pValue', label: 'p-value, sustained (vs rest)', num: true, show: fmt.p },
];

function pick(row, field) {
  const [a, b] = field.split('.');
  if (!b) return row[a];
  return row[a] == null ? null : row[a][b];
}

function renderTable(q, report) {
  const rows = report.rows;
  const program = el.program.selectedOptions[0]?.textContent ?? q.programId;
  const by = el.groupBy.selectedOptions[0].textContent.toLowerCase();
  el.caption.textContent = `${program}: cases flagged from ${q.from} to before ${q.to}, by ${by}`;
  fillTable(el.table, q, columns(report.definition), rows);
  el.comparison.hidden = q.groupBy !== 'approach';
  if (q.groupBy === 'approach') {
    el.comparisonCaption.textContent = `${program}: each approach against all other contacted cases, flagged from ${q.from} to before ${q.to}`;
    fillTable(
      el.comparisonTable,
      q,
      COMPARISON_COLUMNS,
      rows.filter((r) => r.group !== 'total'),
    );
  }
}

function fillTable(table, q, cols, rows) {
  const headRow = document.createElement('tr');
  const groupTh = document.createElement('th');
  groupTh.scope = 'col';
  groupTh.textContent = 'Group';
  headRow.append(groupTh);
  for (const c of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c.label;
    if (c.num) th.className = 'num';
    headRow.append(th);
  }
  table.tHead.replaceChildren(headRow);

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
    tr.append(th);
    for (const c of cols) {
      const td = document.createElement('td');
      td.dataset.field = c.field;
      if (c.num) td.className = c.rate ? 'num rate' : 'num';
      const value = pick(row, c.field);
      if (value == null) {
        const span = document.createElement('span');
        if (row.suppressed) {
          span.className = 'suppressed';
          span.textContent = 'suppressed';
          span.title = 'Hidden: fewer cases than the program’s minimum cell size';
        } else {
          span.className = 'na';
          span.textContent = '—';
          span.title = 'No data';
        }
        td.append(span);
      } else if (c.rate) {
        // The value, then its interval kept on one line; the cell may wrap between the two.
        const ci = document.createElement('span');
        ci.className = 'ci';
        ci.textContent = `(${fmt.pct(value.ci95[0])}–${fmt.pct(value.ci95[1])}%)`;
        td.append(`${fmt.pct(value.value)}% `, ci);
      } else {
        td.textContent = c.show(value);
      }
      tr.append(td);
    }
    return tr;
  });
  table.tBodies[0].replaceChildren(...body);
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
  el.funnelSuppressed.textContent = hiddenStages.length ? `Suppressed (too few cases to show): ${hiddenStages.join(', ')}.` : '';

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
              return `${item.dataset.label}: ${rate ? fmt.rate(rate) : 'suppressed'}`;
            },
          },
        },
      },
    },
    plugins: [ciWhiskers],
  });
  const hidden = rows.filter((r) => r.suppressed).map((r) => groupLabel(q.groupBy, r).text);
  el.ratesSuppressed.hidden = hidden.length === 0;
  el.ratesSuppressed.textContent = hidden.length ? `Some figures suppressed (too few cases to show) for: ${hidden.join(', ')}.` : '';

  el.trendInterval.textContent = trend.interval;
  const hiddenBuckets = trend.buckets.filter((b) => b.suppressed).length;
  el.trendSuppressed.hidden = hiddenBuckets === 0;
  el.trendSuppressed.textContent = hiddenBuckets
    ? `${hiddenBuckets} ${trend.interval}${hiddenBuckets === 1 ? ' has' : 's have'} suppressed figures (too few cases to show); the lines have gaps there.`
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

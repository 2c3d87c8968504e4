import type { ReportRow } from './engagement.js';

const RATES = ['responseRate', 'sustainedRate', 'positiveRate'] as const;
const COUNTS = ['flagged', 'accepted', 'contacted', 'responded', 'sustained', 'positive', 'referred'] as const;

/**
 * RFC 4180 field: quoted when it holds a comma, a quote or a line break. Text starting like a
 * formula (a staff name such as "=HYPERLINK(…)") gets a leading apostrophe so a spreadsheet
 * shows it instead of running it.
 */
function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The same numbers as the JSON report, one line per group, intervals as two columns. */
export function* reportCsv(rows: ReportRow[], opts: { vsRest: boolean; names: boolean }): Generator<string> {
  const withVsRest = opts.vsRest;
  // Under outcome review the rows carry the backlog, right after the (reviewed) positive count.
  const counts = rows.some((r) => 'pendingReview' in r) ? [...COUNTS, 'pendingReview' as const] : COUNTS;
  const header = [
    'group',
    ...(opts.names ? ['name'] : []),
    ...counts,
    ...RATES.flatMap((r) => [r, `${r}Low`, `${r}High`]),
    'medianHoursToFirstResponse',
    'costPerSustainedCents',
    'suppressed',
    ...(withVsRest
      ? [
          'responseRateDiff',
          'sustainedRateDiff',
          'pValue',
          'responsePValue',
          'pValueAdjusted',
          'adjustedSustainedRateDiff',
          'adjustedLow',
          'adjustedHigh',
          'adjustedStrata',
        ]
      : []),
  ];
  yield `${header.join(',')}\r\n`;
  for (const r of rows) {
    const cells = [
      r.group,
      ...(opts.names ? [r.name] : []),
      ...counts.map((c) => r[c]),
      ...RATES.flatMap((k) => [r[k]?.value, r[k]?.ci95[0], r[k]?.ci95[1]]),
      r.medianHoursToFirstResponse,
      r.costPerSustainedCents,
      r.suppressed,
      ...(withVsRest
        ? [
            r.vsRest?.responseRateDiff,
            r.vsRest?.sustainedRateDiff,
            r.vsRest?.pValue,
            r.vsRest?.responsePValue,
            r.vsRest?.pValueAdjusted,
            r.vsRest?.adjusted?.sustainedRateDiff,
            r.vsRest?.adjusted?.ci95[0],
            r.vsRest?.adjusted?.ci95[1],
            r.vsRest?.adjusted?.strata,
          ]
        : []),
    ];
    yield `${cells.map(field).join(',')}\r\n`;
  }
}

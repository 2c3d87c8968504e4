import { createHmac } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import { listReadEvents } from '../audit/log.js';
import { type CaseExportFacts, caseExportFacts } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { programSettings } from '../programs/settings.js';
import { assertReportReader } from './agreement.js';
import type { Window } from './engagement.js';

/** One case of the evaluation export (API.md, Snapshots and the evaluation export). */
export interface ExportRow {
  pseudoId: string | null;
  ideology: string;
  platform: string;
  language: string | null;
  riskLevel: string;
  status: string;
  stage: string;
  flaggedWeek: string;
  contactedWeek: string | null;
  respondedWeek: string | null;
  sustainedWeek: string | null;
  closedWeek: string | null;
  touchpoints: number;
  inbound: number;
  outbound: number;
  firstOutboundApproaches: string[] | null;
  outcome: string | null;
  outcomeStatus: string | null;
  signals: string[];
  trialArm: string | null;
  holderPseudoId: string | null;
}

export const EXPORT_COLUMNS = [
  'pseudoId',
  'ideology',
  'platform',
  'language',
  'riskLevel',
  'status',
  'stage',
  'flaggedWeek',
  'contactedWeek',
  'respondedWeek',
  'sustainedWeek',
  'closedWeek',
  'touchpoints',
  'inbound',
  'outbound',
  'firstOutboundApproaches',
  'outcome',
  'outcomeStatus',
  'signals',
  'trialArm',
  'holderPseudoId',
] as const satisfies readonly (keyof ExportRow)[];

/** ISO 8601 week of a UTC instant, `YYYY-Www`: the year is the week-numbering year (the one its Thursday falls in). */
export function isoWeek(at: Date): string {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
}

const week = (at: Date | null) => (at ? isoWeek(at) : null);

/**
 * A keyed pseudonym of `id` for one caller: HMAC-SHA256 under a key derived from the server
 * secret for this purpose alone, over `callerStaffId/id`, 16 hex digits. The same caller gets the
 * same pseudonym in every export; two callers' pseudonyms cannot be joined without the secret.
 */
export function pseudonym(secret: string, callerStaffId: string, id: string): string {
  const key = createHmac('sha256', secret).update('overture/evaluation-export/pseudonym').digest();
  return createHmac('sha256', key).update(`${callerStaffId.toLowerCase()}/${id.toLowerCase()}`).digest('hex').slice(0, 16);
}

type QuasiIdentifiers = Pick<ExportRow, 'ideology' | 'platform' | 'language' | 'riskLevel'>;

/**
 * k-anonymity over ideology × platform × language × riskLevel, in two passes over the whole
 * export: (1) every row whose class holds fewer than `k` rows has its language replaced by
 * "other"; (2) classes are counted again, and every row whose class still holds fewer than `k`
 * rows has its platform replaced by "other". A missing language is a value of its own. Rows in a
 * class of `k` or more are never changed (merging only ever grows the "other" classes). A class
 * still below `k` after both passes is released as it stands: ideology and riskLevel are never
 * generalised (API.md names language, then platform).
 */
export function generalise<R extends QuasiIdentifiers>(rows: readonly R[], k: number): R[] {
  const classOf = (r: QuasiIdentifiers) => JSON.stringify([r.ideology, r.platform, r.language, r.riskLevel]);
  const sizes = (rs: readonly QuasiIdentifiers[]) => {
    const m = new Map<string, number>();
    for (const r of rs) m.set(classOf(r), (m.get(classOf(r)) ?? 0) + 1);
    return m;
  };
  const first = sizes(rows);
  const pass1 = rows.map((r) => (first.get(classOf(r))! < k ? { ...r, language: 'other' } : r));
  const second = sizes(pass1);
  return pass1.map((r) => (second.get(classOf(r))! < k ? { ...r, platform: 'other' } : r));
}

/**
 * A case as the export shows it. An erased case keeps only its anonymous facts and counts (what
 * reports keep): no pseudonym (nothing may follow it from one export to the next), no language,
 * no holder.
 */
export function exportRowOf(f: CaseExportFacts, pseudo: (id: string) => string): ExportRow {
  const erased = f.erasedAt !== null;
  return {
    pseudoId: erased ? null : pseudo(f.id),
    ideology: f.ideology,
    platform: f.platform,
    language: erased ? null : f.language,
    riskLevel: f.riskLevel,
    status: f.status,
    stage: f.stage,
    flaggedWeek: isoWeek(f.flaggedAt),
    contactedWeek: week(f.contactedAt),
    respondedWeek: week(f.respondedAt),
    sustainedWeek: week(f.sustainedAt),
    closedWeek: week(f.closedAt),
    touchpoints: f.touchpoints,
    inbound: f.inbound,
    outbound: f.touchpoints - f.inbound,
    firstOutboundApproaches: f.firstOutboundApproaches,
    // Once review has settled it, the reviewed outcome; otherwise the closing one, as outcomeStatus says.
    outcome: f.reviewedOutcome ?? f.outcome,
    outcomeStatus: f.outcomeStatus,
    signals: f.reviewedSignals ?? [],
    trialArm: f.trialArm,
    holderPseudoId: erased || f.assigneeId === null ? null : pseudo(f.assigneeId),
  };
}

/** GET /v1/exports/cases: cases flagged in [from, to), pseudonymised for the caller, generalised, audited with every case it held. */
export async function exportCases(db: Tx, ctx: Ctx, w: Window): Promise<{ rows: ExportRow[]; minCellSize: number }> {
  assertReportReader(ctx, w.programId);
  const settings = await programSettings(db, w.programId);
  const facts = await caseExportFacts(db, w.programId, new Date(`${w.from}T00:00:00Z`), new Date(`${w.to}T00:00:00Z`));
  const caller = ctx.principal.staffId;
  const rows = generalise(
    facts.map((f) => exportRowOf(f, (id) => pseudonym(ctx.secret, caller, id))),
    settings.minCellSize,
  );
  // One list-read entry naming every exported case: its length is the export's row count.
  ctx.audit(
    ...listReadEvents(
      ctx,
      'export.cases',
      'program',
      w.programId,
      facts.map((f) => f.id),
    ),
  );
  return { rows, minCellSize: settings.minCellSize };
}

/**
 * RFC 4180 field. Every value here is an enum, a code, a count or a pseudonym, never free text;
 * formula-like text is still neutralised, as in the report CSV.
 */
function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const raw = Array.isArray(v) ? v.join(';') : String(v);
  const s = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The export as CSV: one header line, one line per row; lists joined with `;`. */
export function* exportCsv(rows: readonly ExportRow[]): Generator<string> {
  yield `${EXPORT_COLUMNS.join(',')}\r\n`;
  for (const r of rows) yield `${EXPORT_COLUMNS.map((c) => field(r[c])).join(',')}\r\n`;
}

import { createHash } from 'node:crypto';
import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent, GENESIS_HASH } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { findTrial } from '../trials/store.js';
import { lockSettingsVersion } from '../programs/store.js';
import type { Unit } from '../unit-of-work.js';
import { agreementReport, assertReportReader } from './agreement.js';
import type { Dimension } from './contributions.js';
import { assessmentsReport } from './assessments.js';
import { engagementReport, engagementTrend, trialReport } from './service.js';
import {
  findSnapshot,
  insertSnapshot,
  lastSnapshotHash,
  listSnapshots,
  lockSnapshotChain,
  type SnapshotReport,
  type SnapshotRow,
  snapshotChainUpTo,
} from './snapshot-store.js';

interface WindowParams {
  programId: string;
  from: string;
  to: string;
}

/** What to freeze: a report and the parameters its own route takes (validated by the same schema). */
export type SnapshotRequest =
  | { report: 'engagement'; params: WindowParams & { groupBy?: Dimension } }
  | { report: 'trend'; params: WindowParams & { interval: 'day' | 'week' } }
  | { report: 'agreement'; params: WindowParams }
  | { report: 'trial'; params: { trialId: string } }
  | { report: 'assessments'; params: WindowParams & { templateId: string } };

/** JSON with every object's keys sorted, at every depth: jsonb keeps its own key order, so hashing must not depend on one. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

type Hashed = Pick<SnapshotRow, 'id' | 'programId' | 'report' | 'params' | 'createdAt' | 'createdBy' | 'settingsVersion' | 'body'>;

/** Canonical form of a snapshot: the stored columns, uuids lower-case, the time in ISO (as audit/log.ts does for entries). */
export function canonicalSnapshot(s: Hashed): string {
  return canonicalJson({
    body: s.body,
    createdAt: s.createdAt.toISOString(),
    createdBy: s.createdBy.toLowerCase(),
    id: s.id.toLowerCase(),
    params: s.params,
    programId: s.programId.toLowerCase(),
    report: s.report,
    settingsVersion: s.settingsVersion,
  });
}

/** hash = sha256(prevHash ‖ canonical snapshot), as the audit log chains its entries. */
export function snapshotHash(prevHash: string, s: Hashed): string {
  return createHash('sha256').update(prevHash).update(canonicalSnapshot(s)).digest('hex');
}

export interface SnapshotSummary {
  id: string;
  programId: string;
  report: SnapshotReport;
  params: Record<string, unknown>;
  createdAt: Date;
  createdBy: string;
  settingsVersion: number;
  prevHash: string;
  hash: string;
}
export type Snapshot = SnapshotSummary & { body: unknown };

const view = ({ seq: _seq, ...rest }: SnapshotRow): Snapshot => rest;
const summaryView = ({ seq: _seq, ...rest }: Omit<SnapshotRow, 'body'>): SnapshotSummary => rest;

/** The report as it is now, computed on `reports` (the pool: the report use cases read outside the snapshot's transaction). */
async function computeReport(reports: Db, ctx: Ctx, req: SnapshotRequest): Promise<unknown> {
  switch (req.report) {
    case 'engagement': {
      const { groupBy, ...w } = req.params;
      return engagementReport(reports, ctx, w, groupBy ?? null);
    }
    case 'trend': {
      const { interval, ...w } = req.params;
      return engagementTrend(reports, ctx, w, interval);
    }
    case 'agreement':
      return agreementReport(reports, ctx, req.params);
    case 'trial':
      return trialReport(reports, ctx, req.params.trialId);
    case 'assessments':
      return assessmentsReport(reports, ctx, req.params, 'body.params');
  }
}

/** The program a snapshot belongs to: the window's, or the trial's (a trial of another program is missing). */
async function programOf(reports: Db, ctx: Ctx, req: SnapshotRequest): Promise<string> {
  if (req.report !== 'trial') return req.params.programId;
  const trial = await findTrial(reports, req.params.trialId);
  if (!trial || trial.programId !== ctx.principal.programId) throw notFound('trial');
  return trial.programId;
}

/**
 * POST /v1/reports/snapshots: the report computed now, frozen with the settings version it was
 * computed under and chained to the program's previous snapshot. The chain lock serialises
 * appends per program; the program row is share-locked first, so its settings cannot change
 * between reading the version and computing the report.
 */
export async function createSnapshot(reports: Db, uow: Unit<'write'>, req: SnapshotRequest): Promise<Snapshot> {
  assertReportReader(uow, uow.principal.programId ?? '');
  const programId = await programOf(reports, uow, req);
  assertReportReader(uow, programId);
  await lockSnapshotChain(uow.tx, programId);
  const settingsVersion = await lockSettingsVersion(uow.tx, programId);
  if (settingsVersion === undefined) throw notFound('program');
  // Through JSON once: what is hashed is exactly what jsonb stores and gives back (times as ISO strings).
  const body: unknown = JSON.parse(JSON.stringify(await computeReport(reports, uow, req)));
  const prevHash = (await lastSnapshotHash(uow.tx, programId)) ?? GENESIS_HASH;
  const fields: Hashed = {
    id: uuidv7(),
    programId,
    report: req.report,
    params: JSON.parse(JSON.stringify(req.params)) as Record<string, unknown>,
    createdAt: uow.clock.now(),
    createdBy: uow.principal.staffId,
    settingsVersion,
    body,
  };
  const row = await insertSnapshot(uow.tx, { ...fields, prevHash, hash: snapshotHash(prevHash, fields) });
  uow.audit(auditEvent(uow, 'snapshot.create', 'report_snapshot', row.id, programId));
  return view(row);
}

async function loadSnapshot(tx: Tx, ctx: Ctx, id: string): Promise<SnapshotRow> {
  const row = await findSnapshot(tx, id);
  const { role, programId } = ctx.principal;
  if (!row || (role !== 'lead' && role !== 'evaluator') || row.programId !== programId) throw notFound('snapshot');
  return row;
}

/** GET /v1/reports/snapshots/{id}. */
export async function getSnapshot(tx: Tx, ctx: Ctx, id: string): Promise<Snapshot> {
  const row = await loadSnapshot(tx, ctx, id);
  ctx.audit(auditEvent(ctx, 'snapshot.read', 'report_snapshot', row.id, row.programId));
  return view(row);
}

/** GET /v1/reports/snapshots: newest first, without bodies (each is one GET away). */
export async function snapshotPage(tx: Tx, ctx: Ctx, programId: string, limit: number, beforeSeq?: number) {
  assertReportReader(ctx, programId);
  const rows = await listSnapshots(tx, programId, limit + 1, beforeSeq);
  const items = rows.slice(0, limit);
  ctx.audit(auditEvent(ctx, 'snapshot.list', 'program', programId, programId));
  return { items: items.map(summaryView), nextSeq: rows.length > limit ? items[items.length - 1]!.seq : null };
}

/**
 * GET /v1/reports/snapshots/{id}/verify: recomputes every hash of the program's chain from its
 * first snapshot up to this one; any stored field changed after the fact, a snapshot removed or
 * one moved between chains makes it `ok: false`.
 */
export async function verifySnapshot(tx: Tx, ctx: Ctx, id: string): Promise<{ ok: boolean; checked: number }> {
  const target = await loadSnapshot(tx, ctx, id);
  const chain = await snapshotChainUpTo(tx, target.programId, target.seq);
  let prev = GENESIS_HASH;
  let ok = chain.length > 0 && chain[chain.length - 1]!.id === target.id;
  for (const s of chain) {
    if (s.prevHash !== prev || snapshotHash(prev, s) !== s.hash) ok = false;
    prev = s.hash;
  }
  ctx.audit(auditEvent(ctx, 'snapshot.verify', 'report_snapshot', target.id, target.programId));
  return { ok, checked: chain.length };
}

import { z } from 'zod';
import type { Tx } from '../../db/client.js';
import { RecentCache } from '../../recent-cache.js';
import { notFound } from '../errors.js';
import { parsePeriod } from '../welfare/period.js';
import { MAX_DURATION, MIN_DURATION, parseDuration } from './duration.js';
import { storedSettings, webhookTargetOf } from './store.js';

const duration = z
  .string()
  .refine(
    (v) => parseDuration(v) !== undefined,
    `must be an ISO 8601 duration in W, D, H, M or S (seconds to 3 decimals) from ${MIN_DURATION} to ${MAX_DURATION}, e.g. PT24H or P14D`,
  )
  .meta({ format: 'duration', example: 'P3D' });

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .nullable()
  .describe(
    'https, no credentials, every address its host resolves to public (400 program.webhook_url_not_allowed); plain http and private addresses only with OVERTURE_WEBHOOK_ALLOW_PRIVATE=true. Redirects are never followed.',
  );

/** A signal code: a short lowercase slug, as reports and the export carry it. */
const signalCode = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lowercase slug of 1 to 40 characters (a-z, 0-9, _)');

/** A data-protection fact: one line of up to 500 characters PostgreSQL can store and a reader can see (no NUL, controls or bidi overrides). */
const dpText = z
  .string()
  .max(500)
  .refine((v) => ![...v].some((ch) => unseen(ch.codePointAt(0)!)), 'must be a single line of visible text');

/** Controls (C0, DEL, C1), line and paragraph separators, bidi embeddings/overrides/isolates. */
function unseen(c: number): boolean {
  return (
    c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
  );
}

export const programSettingsShape = {
  requireApproval: z.boolean(),
  defaultMaxCaseload: z.int().min(1).max(500),
  followUpAfter: duration,
  overdueGrace: duration,
  noContactAlertAfter: duration,
  responseSla: duration,
  safeguardingAckWithin: duration,
  sustainedMinMessages: z.int().min(1).max(1000),
  sustainedMinInbound: z.int().min(1).max(1000),
  minCellSize: z.int().min(1).max(1000),
  retentionNeverContacted: duration,
  retentionClosed: duration,
  staffWebhookUrl: webhookUrl,
  outcomeReview: z.enum(['off', 'required']).describe('`required`: a closed case is `provisional` until independent review'),
  secondCoderRate: z.number().min(0).max(1).describe('Share of reviewed cases drawn for a second, blind review'),
  signalCodebook: z
    .array(signalCode)
    .min(1)
    .max(30)
    .refine((codes) => new Set(codes).size === codes.length, 'codes must be distinct')
    .describe('The signal codes a review may name'),
  weeklyExposureCap: duration.describe(
    'Minutes with hostile content per UTC ISO week (touchpoints’ minutesSpent plus logged time) above which assignment needs an override (409 `staff.over_exposure`)',
  ),
  supervisionEvery: z
    .string()
    .refine(
      (v) => parsePeriod(v) !== undefined,
      'must be whole months (P1M to P99M) or an ISO 8601 duration in W, D, H, M or S, e.g. P1M or P2W',
    )
    .meta({ format: 'duration', example: 'P1M' })
    .describe('The supervision period: calendar months (P1M, P3M) or a fixed span (P2W); each needs supervisionMinMinutes'),
  supervisionMinMinutes: z.int().min(0).max(10_000).describe('Supervision minutes each intervener needs per supervisionEvery'),
  debriefWithin: duration.describe('How soon after a distressing event its debrief is due'),
  dataProtection: z
    .strictObject({
      controller: dpText.optional(),
      purposes: z.array(dpText).max(30).optional(),
      legalBasis: dpText.optional(),
      article9Condition: dpText.optional(),
      recipients: z.array(dpText).max(30).optional(),
      sources: z.array(dpText).max(30).optional(),
    })
    .describe('The controller’s facts for the record of processing and subject access exports'),
  requirePublicnessAttestation: z
    .boolean()
    .describe('`true`: flagging needs `publicness` with both the account and the content public (422 `case.publicness_unattested`)'),
  requireOutreachAccount: z
    .boolean()
    .describe(
      '`true`: an outbound touchpoint must name a live, disclosed outreach account of its platform (422 `touchpoint.outreach_account_invalid`)',
    ),
  freeTextIdentifierCheck: z
    .boolean()
    .describe(
      '`true`: free text holding a URL or an @handle is refused (422 `text.contains_identifier`); evidence links go in indicators[].evidenceUrl',
    ),
  requireBaselineAssessment: z
    .boolean()
    .describe('`true`: approving a case, or assigning it for the first time, needs a baseline assessment (409 `case.baseline_missing`)'),
};

export const programSettingsSchema = z.strictObject(programSettingsShape);
/** What a client may send: any subset, merged over what the program has. */
export const programSettingsPatchSchema = programSettingsSchema.partial();

export type ProgramSettings = z.output<typeof programSettingsSchema>;

export const DEFAULT_SETTINGS: ProgramSettings = {
  requireApproval: true,
  defaultMaxCaseload: 15,
  followUpAfter: 'P3D',
  overdueGrace: 'PT24H',
  noContactAlertAfter: 'P14D',
  responseSla: 'PT24H',
  safeguardingAckWithin: 'PT1H',
  sustainedMinMessages: 5,
  sustainedMinInbound: 2,
  minCellSize: 5,
  retentionNeverContacted: 'P90D',
  retentionClosed: 'P365D',
  staffWebhookUrl: null,
  outcomeReview: 'off',
  secondCoderRate: 0.2,
  signalCodebook: ['expressed_doubt', 'reduced_hostility', 'accepted_support', 'left_group_space', 'sought_help', 'none'],
  requireBaselineAssessment: false,
  dataProtection: {},
  requirePublicnessAttestation: false,
  requireOutreachAccount: false,
  freeTextIdentifierCheck: true,
  weeklyExposureCap: 'PT8H',
  supervisionEvery: 'P1M',
  supervisionMinMinutes: 90,
  debriefWithin: 'PT48H',
};

const SETTING_KEYS = Object.keys(programSettingsShape) as (keyof ProgramSettings)[];

/** Stored keys whose value fails today's schema (written before a rule tightened, or by hand). */
export function invalidStoredKeys(stored: unknown): (keyof ProgramSettings)[] {
  if (!isRecord(stored)) return stored == null ? [] : SETTING_KEYS;
  return SETTING_KEYS.filter((key) => Object.hasOwn(stored, key) && !programSettingsShape[key].safeParse(stored[key]).success);
}

/**
 * A program's settings: each stored override that still passes its schema, and the default for
 * every key that is missing or no longer valid, so one bad value never stops the program's work.
 */
export function resolveSettings(stored: unknown): ProgramSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (!isRecord(stored)) return settings as ProgramSettings;
  for (const key of SETTING_KEYS) {
    if (!Object.hasOwn(stored, key)) continue;
    const parsed = programSettingsShape[key].safeParse(stored[key]);
    if (parsed.success) settings[key] = parsed.data;
  }
  return settings as ProgramSettings;
}

/** One program's settings, resolved; the defaults when there is no such program. */
export async function loadSettings(tx: Tx, programId: string | null): Promise<ProgramSettings> {
  if (!programId) return resolveSettings(null);
  return resolveSettings((await storedSettings(tx, programId))?.stored);
}

/**
 * One program's settings as read at most SETTINGS_CACHE_MS ago in this process, for views that
 * only sort or highlight by them (the caseload's overdue grace): an intervener opening the
 * caseload all day should not cost a settings read each time. A change written in this process
 * forgets them at once; another process's change is seen within SETTINGS_CACHE_MS. Never for a
 * decision that changes data: those read the settings in their own transaction.
 */
export const SETTINGS_CACHE_MS = 2_000;
const recent = new RecentCache<ProgramSettings>(SETTINGS_CACHE_MS, 1_000);

/** Called by every write of a program's settings. */
export function forgetSettings(): void {
  recent.forget();
}

export async function recentSettings(tx: Tx, programId: string): Promise<ProgramSettings> {
  const found = await recent.remember(programId, async () => {
    const stored = await storedSettings(tx, programId);
    return stored && resolveSettings(stored.stored);
  });
  return found ?? resolveSettings(undefined);
}

/** One program's settings, resolved; 404 `program.not_found` when there is no such program. */
export async function programSettings(tx: Tx, programId: string): Promise<ProgramSettings> {
  const found = await storedSettings(tx, programId);
  if (!found) throw notFound('program');
  return resolveSettings(found.stored);
}

/** A program's resolved settings and webhook secret, for a delivery; undefined when there is no such program. */
export async function webhookSettings(
  tx: Tx,
  programId: string,
): Promise<{ settings: ProgramSettings; secret: string | null } | undefined> {
  const found = await webhookTargetOf(tx, programId);
  return found && { settings: resolveSettings(found.stored), secret: found.secret };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type DurationKey = Exclude<
  { [K in keyof ProgramSettings]: ProgramSettings[K] extends string ? K : never }[keyof ProgramSettings],
  'outcomeReview' | 'supervisionEvery'
>;

/** Milliseconds of a duration setting; resolved settings always hold a valid one. */
export function ms(settings: ProgramSettings, key: DurationKey): number {
  return parseDuration(settings[key]) ?? parseDuration(DEFAULT_SETTINGS[key])!;
}

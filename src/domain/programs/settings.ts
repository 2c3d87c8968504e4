import { z } from 'zod';
import { parseDuration } from './duration.js';

const duration = z
  .string()
  .refine((v) => (parseDuration(v) ?? 0) > 0, 'must be a positive ISO 8601 duration in W, D, H, M or S, e.g. PT24H or P14D')
  .meta({ format: 'duration', example: 'P3D' });

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .nullable();

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
};

export function resolveSettings(stored: Record<string, unknown> | null | undefined): ProgramSettings {
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}) } as ProgramSettings;
}

/** Milliseconds of a duration setting (validated on write, so always parseable). */
export function ms(settings: ProgramSettings, key: keyof ProgramSettings): number {
  return parseDuration(String(settings[key])) ?? 0;
}

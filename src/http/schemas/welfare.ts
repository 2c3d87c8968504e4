import { z } from 'zod';
import { DEBRIEF_REASONS, DEBRIEF_STATUSES, IDEOLOGIES, SUPERVISION_FORMATS, TIME_ACTIVITIES } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, isoTimeText, limitParam, nullableTime } from './common.js';

export const timeBody = z
  .strictObject({
    at: isoTime.describe('When the time was spent (its UTC ISO week is the week it counts in)'),
    minutes: z.int().min(1).max(600),
    activity: z.enum(TIME_ACTIVITIES),
  })
  .meta({ example: { at: '2026-12-01T14:00:00Z', minutes: 45, activity: 'research' } });

export const timeLogSchema = z
  .object({ id: z.uuid(), staffId: z.uuid(), at: isoTime, minutes: z.int(), activity: z.enum(TIME_ACTIVITIES), createdAt: isoTime })
  .meta({ id: 'TimeLog' });

export const welfareSchema = z
  .object({
    weekStart: isoTime.describe('Monday 00:00 UTC of this ISO week'),
    exposureMinutes: z.int().describe("This week's touchpoints' minutesSpent plus logged time"),
    capMinutes: z.int().describe("The program's weeklyExposureCap in minutes"),
    overCap: z.boolean().describe('At or over the cap: new cases need a lead’s override'),
    lastSupervisionAt: nullableTime,
    supervisionDueAt: isoTime.describe(
      'The end of the first supervision period (this one or the next) still short of supervisionMinMinutes',
    ),
    supervisionMinutesThisPeriod: z.int(),
    supervisionMinMinutes: z.int(),
    debriefsPending: z.int(),
    avoid: z.array(z.enum(IDEOLOGIES)).describe('Ideologies you opted out of (PUT /v1/me/avoid), so a page can show them'),
  })
  .meta({ id: 'Welfare' });

export const avoidBody = z
  .strictObject({
    avoid: z.array(z.enum(IDEOLOGIES)).max(IDEOLOGIES.length).describe('Ideologies whose cases you opt out of; [] to opt back in'),
  })
  .meta({ example: { avoid: ['islamist'] } });
export const avoidSchema = z.object({ avoid: z.array(z.enum(IDEOLOGIES)) }).meta({ id: 'TopicOptOuts' });

export const debriefSchema = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    caseId: z.uuid().nullable(),
    reason: z.enum(DEBRIEF_REASONS),
    dueAt: isoTime,
    status: z.enum(DEBRIEF_STATUSES),
    doneAt: nullableTime,
    doneBy: z.uuid().nullable(),
    note: z.string().nullable(),
    createdAt: isoTime,
  })
  .meta({ id: 'Debrief' });

export const debriefQuery = z.strictObject({
  status: z.enum(DEBRIEF_STATUSES).optional(),
  staffId: z.uuid().optional().describe('Leads: one intervener’s'),
  limit: limitParam,
  cursor: cursorParam,
});
export const debriefCursor = z.tuple([isoTimeText, z.uuid()]);

export const completeDebriefBody = z
  .strictObject({ note: freeText({ max: 2000 }).nullable().optional() })
  .meta({ example: { note: 'Talked it through; Sam takes Friday off screens.' } })
  .nullish();

export const supervisionBody = z
  .strictObject({ at: isoTime, minutes: z.int().min(1).max(600), format: z.enum(SUPERVISION_FORMATS) })
  .meta({ example: { at: '2026-12-01T10:00:00Z', minutes: 60, format: 'individual' } });

export const supervisionSchema = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    at: isoTime,
    minutes: z.int(),
    format: z.enum(SUPERVISION_FORMATS),
    recordedBy: z.uuid(),
    createdAt: isoTime,
  })
  .meta({ id: 'SupervisionSession' });

export const supervisionQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
export const supervisionCursor = debriefCursor;

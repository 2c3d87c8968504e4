import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { run } from '../../../domain/unit-of-work.js';
import { welfareReport } from '../../../domain/welfare/report.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { errorResponses, isoTime } from '../../schemas/common.js';
import { checkReportWindow, reportWindow } from '../../schemas/evaluation.js';

const debriefTally = z.object({
  owed: z.int().describe('Debriefs created in the window'),
  done: z.int(),
  onTime: z.int().describe('Done with doneAt ≤ dueAt'),
  pending: z.int(),
  overdue: z.int().describe('Still pending with dueAt ≤ asOf'),
});

const exposureWeek = z.object({
  weekStart: isoTime.describe('Monday 00:00 UTC'),
  minutes: z.int(),
  hours: z.number().describe('minutes / 60, to 2 decimals'),
  overCap: z.boolean().describe('minutes ≥ capMinutes'),
});

const supervisionPeriod = z.object({
  start: isoTime,
  end: isoTime.describe('Exclusive'),
  minutes: z.int(),
  ended: z.boolean().describe('end ≤ asOf'),
  short: z.boolean().describe('minutes < supervisionMinMinutes'),
});

const intervenerSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  active: z.boolean(),
  exposure: z.object({
    weeks: z.array(exposureWeek),
    totalMinutes: z.int(),
    totalHours: z.number(),
    overCapWeeks: z.int().describe('Weeks at or over the cap'),
  }),
  debriefs: debriefTally,
  supervision: z.object({
    periods: z.array(supervisionPeriod),
    shortPeriods: z.int().describe('Ended periods short of supervisionMinMinutes'),
  }),
});

const teamSchema = z.object({
  interveners: z.int(),
  exposure: z.object({
    weeks: z.array(
      z.object({
        weekStart: isoTime,
        minutes: z.int(),
        hours: z.number(),
        overCapInterveners: z.int().describe('Interveners at or over the cap that week'),
      }),
    ),
    totalMinutes: z.int(),
    totalHours: z.number(),
    overCapWeeks: z.int().describe('Intervener-weeks at or over the cap'),
  }),
  debriefs: debriefTally,
  supervision: z.object({
    periods: z.array(
      z.object({
        start: isoTime,
        end: isoTime,
        minutes: z.int(),
        ended: z.boolean(),
        shortInterveners: z.int().describe('Interveners short of supervisionMinMinutes in the period'),
      }),
    ),
    shortPeriods: z.int().describe('Intervener-periods that ended short'),
  }),
});

export const welfareReportSchema = z
  .object({
    programId: z.uuid(),
    from: z.string(),
    to: z.string(),
    capMinutes: z.int().describe('weeklyExposureCap in minutes'),
    capHours: z.number(),
    supervisionEvery: z.string(),
    supervisionMinMinutes: z.int(),
    interveners: z.array(intervenerSchema),
    team: teamSchema,
    asOf: isoTime,
    definition: z.record(z.string(), z.union([z.string(), z.number()])),
  })
  .meta({
    id: 'WelfareReport',
    description: 'Figures about staff for their own leads: nothing is suppressed, and none of it reaches engagement reports or evaluators',
  });

export const welfareReportRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/reports/welfare',
    {
      // Evaluators pass the route so that, like any reader outside the leads, they are told there is no such program.
      config: { auth: ['lead', 'evaluator'] },
      schema: {
        tags: ['welfare'],
        querystring: z.strictObject(reportWindow),
        response: { 200: welfareReportSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { programId, from, to } = request.query;
      checkReportWindow(from, to);
      return run(deps, actorOf(request), 'read', (uow) => welfareReport(uow.tx, uow, { programId, from, to }));
    },
  );
};

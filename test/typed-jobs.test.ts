import { randomUUID } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { JobRequest } from '../src/domain/context.js';
import { followUpDueJob, followUpOverdueJob, responseSlaJob, safeguardingJob, webhookJobsFor } from '../src/domain/reminders/jobs.js';
import { resolveSettings } from '../src/domain/programs/settings.js';
import type { Unit } from '../src/domain/unit-of-work.js';
import { JOBS } from '../src/queue/jobs.js';

// The `@ts-expect-error` lines are the test: `tsc --noEmit` (CI's typecheck) fails if any of them compiles.
const id = randomUUID();

describe('job requests are typed by the job map', () => {
  it('a request names a queue of the map, one of that queue’s jobs and that job’s payload', () => {
    expectTypeOf<JobRequest['queue']>().toEqualTypeOf<'reminders' | 'maintenance' | 'webhooks'>();
    expectTypeOf<JobRequest<'webhooks'>['name']>().toEqualTypeOf<'deliver'>();
    expectTypeOf<Extract<JobRequest, { name: 'follow-up-due' }>['payload']>().toEqualTypeOf<{ followUpId: string; version: number }>();
    expectTypeOf<Extract<JobRequest, { name: 'safeguarding-escalate' }>['payload']>().toEqualTypeOf<{
      concernId: string;
      period: number;
    }>();

    const right: JobRequest = { queue: 'reminders', name: 'follow-up-due', payload: { followUpId: id, version: 1 } };
    // @ts-expect-error a misspelt job name
    const misspeltName: JobRequest = { queue: 'reminders', name: 'follow-up-dew', payload: { followUpId: id, version: 1 } };
    // @ts-expect-error a misspelt queue
    const misspeltQueue: JobRequest = { queue: 'reminder', name: 'follow-up-due', payload: { followUpId: id, version: 1 } };
    // @ts-expect-error a job of another queue
    const otherQueue: JobRequest = { queue: 'reminders', name: 'deliver', payload: { notificationId: id } };
    // @ts-expect-error a payload missing a field
    const missingField: JobRequest = { queue: 'reminders', name: 'follow-up-due', payload: { followUpId: id } };
    // @ts-expect-error another job's payload
    const otherPayload: JobRequest = { queue: 'reminders', name: 'response-sla', payload: { followUpId: id, version: 1 } };
    // @ts-expect-error a field a payload does not have (payloads carry ids only)
    const extraField: JobRequest = { queue: 'webhooks', name: 'deliver', payload: { notificationId: id, handle: '@someone' } };
    expect([right, misspeltName, misspeltQueue, otherQueue, missingField, otherPayload, extraField]).toHaveLength(7);
  });

  it('a unit of work enqueues only requests of the map', () => {
    const enqueued: JobRequest[] = [];
    const enqueue: Unit['enqueue'] = (...jobs) => void enqueued.push(...jobs);
    enqueue({ queue: 'webhooks', name: 'deliver', payload: { notificationId: id }, jobId: `wh-${id}` });
    // @ts-expect-error a misspelt job name
    enqueue({ queue: 'webhooks', name: 'delivre', payload: { notificationId: id } });
    // @ts-expect-error a scheduled job's empty payload given a field
    enqueue({ queue: 'maintenance', name: 'reconcile', payload: { programId: id } });
    expect(enqueued.map((j) => j.name)).toEqual(['deliver', 'delivre', 'reconcile']);
  });

  it('the job builders return requests of their own queue, whose payloads the map accepts', () => {
    expectTypeOf(followUpDueJob).returns.toEqualTypeOf<JobRequest<'reminders'>>();
    expectTypeOf(webhookJobsFor).returns.toEqualTypeOf<JobRequest<'webhooks'>[]>();

    const settings = resolveSettings({ staffWebhookUrl: 'https://example.org/hook' });
    const now = new Date('2026-12-01T09:00:00Z');
    const jobs: JobRequest[] = [
      followUpDueJob({ id, version: 2, dueAt: now }, now),
      followUpOverdueJob({ id, version: 2, dueAt: now }, settings, now),
      responseSlaJob({ id, occurredAt: now }, settings, now),
      safeguardingJob({ id, raisedAt: now }, 1, settings, now),
      ...webhookJobsFor(settings, [id]),
    ];
    for (const job of jobs) {
      const schema = (JOBS[job.queue] as Record<string, { safeParse(v: unknown): { success: boolean } }>)[job.name];
      expect(schema?.safeParse(job.payload).success, `${job.queue}/${job.name}`).toBe(true);
    }
  });
});

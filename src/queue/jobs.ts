import { z } from 'zod';

const id = z.uuid();

/**
 * Every queue, job name and payload schema. Payloads carry ids only: BullMQ stores them in clear
 * text, so never a handle, a note or a summary.
 */
export const JOBS = {
  reminders: {
    'follow-up-due': z.strictObject({ followUpId: id, version: z.int().min(1) }),
    'follow-up-overdue': z.strictObject({ followUpId: id, version: z.int().min(1) }),
    /** Every follow-up of the program past its grace by `at` (epoch ms, the end of a bucket) becomes overdue. */
    'follow-up-overdue-sweep': z.strictObject({ programId: id, at: z.int().min(0) }),
    'response-sla': z.strictObject({ touchpointId: id }),
    'safeguarding-escalate': z.strictObject({ concernId: id, period: z.int().min(1) }),
    'debrief-overdue': z.strictObject({ debriefId: id }),
  },
  maintenance: {
    heartbeat: z.strictObject({}),
    reconcile: z.strictObject({}),
    'no-contact-scan': z.strictObject({}),
    rollup: z.strictObject({}),
    retention: z.strictObject({}),
    'supervision-scan': z.strictObject({}),
  },
  webhooks: {
    deliver: z.strictObject({ notificationId: id }),
  },
} as const;

export type Jobs = typeof JOBS;
export type QueueName = keyof Jobs;
export type JobName<Q extends QueueName> = keyof Jobs[Q] & string;
export type Payload<Q extends QueueName, J extends JobName<Q>> = z.output<Jobs[Q][J] & z.ZodType>;

export const QUEUE_NAMES = Object.keys(JOBS) as QueueName[];

/** Scheduled jobs, upserted idempotently at worker start. */
export const SCHEDULES: { queue: 'maintenance'; name: JobName<'maintenance'>; every: number }[] = [
  { queue: 'maintenance', name: 'heartbeat', every: 30_000 },
  { queue: 'maintenance', name: 'reconcile', every: 60_000 },
  { queue: 'maintenance', name: 'no-contact-scan', every: 5 * 60_000 },
  { queue: 'maintenance', name: 'rollup', every: 60_000 },
  { queue: 'maintenance', name: 'retention', every: 24 * 3_600_000 },
  // Supervision periods are weeks or months: a shortfall heard of within 15 minutes of its end is soon enough.
  { queue: 'maintenance', name: 'supervision-scan', every: 15 * 60_000 },
];

/** Jobs an admin may run now through POST /v1/admin/jobs/{name}/run. */
export const RUNNABLE_JOBS = ['retention', 'rollup', 'no-contact-scan', 'reconcile', 'supervision-scan'] as const;
export type RunnableJob = (typeof RUNNABLE_JOBS)[number];

/** Deterministic job ids (BullMQ forbids `:`): a replay schedules the same job, a new version a new one. */
export const jobIds = {
  followUpDue: (followUpId: string, version: number) => `fu-due-${followUpId}-v${version}`,
  followUpOverdue: (followUpId: string, version: number) => `fu-overdue-${followUpId}-v${version}`,
  followUpOverdueSweep: (programId: string, at: number) => `fu-overdue-sweep-${programId}-${at}`,
  responseSla: (touchpointId: string) => `sla-${touchpointId}`,
  safeguarding: (concernId: string, period: number) => `sg-${concernId}-p${period}`,
  debriefOverdue: (debriefId: string) => `debrief-overdue-${debriefId}`,
  webhook: (notificationId: string) => `wh-${notificationId}`,
};

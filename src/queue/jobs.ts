import { z } from 'zod';

/**
 * Every queue, job name and payload schema. Payloads carry ids only: BullMQ stores them in clear
 * text, so never a handle, a note or a summary.
 */
export const JOBS = {
  maintenance: {
    heartbeat: z.strictObject({}),
  },
} as const;

export type Jobs = typeof JOBS;
export type QueueName = keyof Jobs;
export type JobName<Q extends QueueName> = keyof Jobs[Q] & string;
export type Payload<Q extends QueueName, J extends JobName<Q>> = z.output<Jobs[Q][J] & z.ZodType>;

export const QUEUE_NAMES = Object.keys(JOBS) as QueueName[];

/** Scheduled jobs and how often they run (upserted idempotently at worker start). */
export const SCHEDULES: { queue: QueueName; name: string; every: number }[] = [
  { queue: 'maintenance', name: 'heartbeat', every: 30_000 },
];

import { Redis } from 'ioredis';

/** Removes a Redis namespace's keys (and only those): SCAN + UNLINK on `{ns}:*`. */
export async function deleteRedisNamespace(redisUrl: string, namespace: string) {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  r.on('error', () => {});
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `{${namespace}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Commands the Redis server has processed so far (INFO stats), to count round trips per request. */
export async function redisCommandsProcessed(redisUrl: string): Promise<number> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => {});
  try {
    await r.connect();
    return Number(/total_commands_processed:(\d+)/.exec(await r.info('stats'))?.[1] ?? Number.NaN);
  } finally {
    r.disconnect();
  }
}

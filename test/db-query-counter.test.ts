import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../src/db/client.js';
import { hotQuery } from '../src/db/prepared.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/** createDb's onQuery (the `overture_db_queries_total` counter the api bench divides by requests). */
let db: TestDatabase;
let counted: DbHandle;
let n = 0;
beforeAll(async () => {
  db = await createTestDatabase();
  counted = createDb(db.url, { max: 2, onQuery: () => n++ });
});
afterAll(async () => {
  await counted.close();
  await db.close();
});

describe('the statement counter', () => {
  it('counts one per statement sent: pool queries, prepared ones, and a transaction with its BEGIN and COMMIT', async () => {
    n = 0;
    await counted.pool.query('select 1');
    expect(n).toBe(1);
    await hotQuery(counted.db, 'counter_probe', 'select $1::int as v', [1]);
    await hotQuery(counted.db, 'counter_probe', 'select $1::int as v', [2]);
    expect(n).toBe(3);
    await counted.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await tx.execute(sql`select 2`);
    });
    expect(n).toBe(3 + 4);
  });
});

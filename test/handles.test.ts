import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renormaliseStoredHandles } from '../src/db/data-migrations.js';
import { legacyNormalise, normaliseHandle, type Platform, suppressionHash } from '../src/domain/cases/profile.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { call, flagBody, ok } from './helpers/story.js';

describe('normaliseHandle: one person, one form (API.md, Cases)', () => {
  const same: [Platform, string, string][] = [
    ['x', '@Some_One', 'some_one'],
    ['x', '@ name', 'name'],
    ['x', ' @name ', 'name'],
    ['x', 'na\u200bme', 'name'], // zero-width space
    ['x', 'na\u200dme', 'name'], // zero-width joiner
    ['x', 'na\u00adme', 'name'], // soft hyphen
    ['x', '\u2066name\u2069', 'name'], // bidi isolates
    ['x', '\ufeffname', 'name'], // byte-order mark
    ['x', 'name.', 'name'], // trailing dot
    ['x', 'name\u0301', 'name'], // combining acute accent
    ['x', 'ｎａｍｅ', 'name'], // fullwidth (NFKC)
    ['x', 'NAME', 'name'],
    ['x', 'https://x.com/Name', 'name'],
    ['x', 'https://twitter.com/Name?s=20#top', 'name'],
    ['x', 'twitter.com/Name', 'name'],
    ['x', 'www.x.com/name/', 'name'],
    ['x', 'mobile.twitter.com/Name', 'name'],
    ['x', 'HTTPS://X.COM/NAME', 'name'],
    ['instagram', 'instagram.com/the.name/', 'the.name'],
    ['instagram', 'https://www.instagram.com/the.name?igsh=abc', 'the.name'],
    ['facebook', 'facebook.com/some.name', 'some.name'],
    ['facebook', 'https://m.facebook.com/profile.php?id=100012345678901', '100012345678901'],
    ['youtube', 'youtube.com/@Name-1', 'name-1'],
    ['tiktok', 'https://www.tiktok.com/@Na.me', 'na.me'],
    ['telegram', 't.me/long_name', 'long_name'],
    ['telegram', 'https://telegram.me/long_name', 'long_name'],
    ['reddit', 'reddit.com/user/Some-One', 'some-one'],
    ['reddit', 'https://old.reddit.com/u/some_one/', 'some_one'],
    ['other', '  Some\u200b  Name ', 'some name'],
    ['other', 'Иван', 'иван'],
  ];
  it.each(same)('%s %j → %j', (platform, raw, want) => {
    expect(normaliseHandle(platform, raw)).toEqual({ ok: true, handle: want });
  });

  const refused: [Platform, string][] = [
    ['x', 'nаme'], // Cyrillic а
    ['x', 'νame'], // Greek nu
    ['x', 'a'.repeat(16)],
    ['x', 'https://instagram.com/name'], // another platform's URL
    ['x', 'some name'],
    ['x', '@'],
    ['x', '\u200b'],
    ['instagram', 'name!'],
    ['tiktok', 'a'],
    ['youtube', 'ab'],
    ['telegram', 'abcd'],
    ['reddit', 'ab'],
    ['facebook', 'abc'],
    ['other', 'pаypal'], // Latin mixed with a Cyrillic look-alike
    ['other', 'a'.repeat(101)],
  ];
  it.each(refused)('%s %j is refused', (platform, raw) => {
    expect(normaliseHandle(platform, raw).ok).toBe(false);
  });

  it('a profile URL that names another profile than the handle is refused', () => {
    expect(normaliseHandle('x', 'name', 'https://x.com/other')).toMatchObject({ ok: false, field: 'url' });
    expect(normaliseHandle('x', 'name', 'https://x.com/NAME')).toEqual({ ok: true, handle: 'name' });
    expect(normaliseHandle('x', 'name', 'https://example.org/about')).toEqual({ ok: true, handle: 'name' });
  });

  it('the legacy form is the old normalisation applied twice, as the old code hashed it', () => {
    expect(legacyNormalise('@ @Name')).toBe('name');
    expect(legacyNormalise('Na\u200bme')).toBe('na\u200bme');
  });
});

describe('flagging with normalised handles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every form of one handle is the same open case (409 case.duplicate), stored in its normal form', async () => {
    const { programId: p, analyst } = await cast(t, { analyst: 'analyst' });
    const first = await ok<{ id: string; profile: { handle: string } }>(
      t,
      analyst,
      'POST',
      '/v1/cases',
      flagBody(p, { profile: { platform: 'x', handle: '@ Dup_Name' } }),
    );
    expect(first.profile.handle).toBe('dup_name');
    for (const form of [
      'dup_name',
      'DUP_NAME.',
      'dup\u200b_name',
      'dup_name\u0301',
      'https://twitter.com/Dup_Name?s=1',
      'x.com/dup_name/',
      'ｄｕｐ_ｎａｍｅ',
    ]) {
      const res = await call(t, analyst, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: form } }));
      expect(expectProblem(res, 409, 'case.duplicate')['caseId'], form).toBe(first.id);
    }
    // The same handle on another platform is another person.
    await ok(t, analyst, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'instagram', handle: 'dup_name' } }));
  });

  it('an invalid handle for its platform is 400 profile.invalid_handle naming the field; nothing is stored', async () => {
    const { programId: p, analyst } = await cast(t, { analyst: 'analyst' });
    for (const [platform, handle] of [
      ['x', 'nаme'],
      ['x', 'much_too_long_for_x'],
      ['telegram', 'abc'],
      ['other', 'pаypal'],
    ] as const) {
      const res = expectProblem(
        await call(t, analyst, 'POST', '/v1/cases', flagBody(p, { profile: { platform, handle } })),
        400,
        'profile.invalid_handle',
      );
      expect(res['errors']).toEqual([{ path: 'body.profile.handle', message: expect.any(String) }]);
    }
    const mismatch = flagBody(p, { profile: { platform: 'x', handle: 'someone', url: 'https://x.com/someone_else' } });
    const res = expectProblem(await call(t, analyst, 'POST', '/v1/cases', mismatch), 400, 'profile.invalid_handle');
    expect(res['errors']).toEqual([{ path: 'body.profile.url', message: expect.any(String) }]);
    const stored = await t.db.pool.query('select 1 from cases where program_id = $1', [p]);
    expect(stored.rows).toEqual([]);
  });

  it('an erased person stays suppressed whichever form a later flag uses', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: 'Erased_One' } }));
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    for (const form of [
      'erased_one',
      '@ Erased_One',
      'erased_one.',
      'erased\u00ad_one',
      'Erased_One\u0301',
      'https://x.com/Erased_One',
      'mobile.twitter.com/erased_one?lang=en',
    ]) {
      expectProblem(
        await call(t, lead, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: form } })),
        422,
        'profile.suppressed',
      );
    }
    // Look-alike letters cannot slip past: they are not an x handle at all.
    expectProblem(
      await call(t, lead, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: 'erаsed_one' } })),
      400,
      'profile.invalid_handle',
    );
  });

  it('a suppression entry hashed under the old normalisation still matches', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    // As the old code stored an erasure of "@ Old_Name": the old form kept the space after "@".
    await t.db.pool.query('insert into suppression_list (hash) values ($1)', [
      suppressionHash(TEST_SECRET, 'x', legacyNormalise('@ Old_Name')),
    ]);
    expectProblem(
      await call(t, lead, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: '@ Old_Name' } })),
      422,
      'profile.suppressed',
    );
  });

  it('the data migration re-normalises stored handles, and leaves a pair that would collide as it was', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(p, { profile: { platform: 'x', handle: `stored_${i}` } }))).id,
      );
    // Handles as the old code stored them.
    const old = [' stored_zero', 'stored\u200bone', 'twin', 'twin\u200b'];
    for (const [i, h] of old.entries()) await t.db.pool.query('update profiles set handle = $2 where case_id = $1', [ids[i], h]);
    const result = await t.db.db.transaction((tx) => renormaliseStoredHandles(tx));
    expect(result).toEqual({ changed: 2, kept: { duplicate_of_open_case: 1 } });
    const rows = await t.db.pool.query<{ case_id: string; handle: string }>('select case_id, handle from profiles where program_id = $1', [
      p,
    ]);
    const byId = new Map(rows.rows.map((r) => [r.case_id, r.handle]));
    expect(ids.map((id) => byId.get(id))).toEqual(['stored_zero', 'storedone', 'twin', 'twin\u200b']);
    // Running it again changes nothing.
    expect(await t.db.db.transaction((tx) => renormaliseStoredHandles(tx))).toEqual({ changed: 0, kept: { duplicate_of_open_case: 1 } });
  });
});

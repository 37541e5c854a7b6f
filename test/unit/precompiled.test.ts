// The hot-path statement cache: compiled once, run with fresh values, constants kept, misuse refused.
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import { precompiled } from '../../src/store/precompiled.js';

const { db } = openDatabase({ path: ':memory:' });
afterAll(() => db.destroy());

describe('precompiled', () => {
  it('runs the same SQL with each call’s values, in any key order, keeping constants', async () => {
    await migrateToLatest(db);
    const insert = precompiled<{ id: string; name: string }>(['name', 'id'], (d, v) =>
      d.insertInto('api_keys').values({ id: v.id, name: v.name, role: 'read', key_hash: v.id, key_prefix: 'p', created_at: 'then', revoked_at: null, seq: 1 }),
    );
    await insert(db, { id: 'k1', name: 'one' });
    await insert(db, { name: 'two', id: 'k2' });
    const rows = await db.selectFrom('api_keys').select(['id', 'name', 'role', 'key_hash']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'k1', name: 'one', role: 'read', key_hash: 'k1' },
      { id: 'k2', name: 'two', role: 'read', key_hash: 'k2' },
    ]);
  });

  it('refuses a build that drops or transforms a listed value', async () => {
    const drops = precompiled<{ id: string; name: string }>(['id', 'name'], (d, v) => d.selectFrom('api_keys').selectAll().where('id', '=', v.id));
    await expect(drops(db, { id: 'k1', name: 'x' })).rejects.toThrow(/does not take name/);
    const transforms = precompiled<{ id: string }>(['id'], (d, v) => d.selectFrom('api_keys').selectAll().where('id', '=', `${v.id}!`));
    await expect(transforms(db, { id: 'k1' })).rejects.toThrow(/plain parameters/);
  });
});

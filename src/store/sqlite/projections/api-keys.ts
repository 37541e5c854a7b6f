// Projections of api_key.* entries into the api_keys table.
import type { Projections } from './shared.js';

export const apiKeyProjections: Projections<'api_key.created' | 'api_key.revoked'> = {
  'api_key.created': async (db, { seq, at, body }) => {
    await db
      .insertInto('api_keys')
      .values({ id: body.id, name: body.name, role: body.role, key_hash: body.key_hash, key_prefix: body.key_prefix, created_at: at, revoked_at: null, seq })
      .execute();
  },

  'api_key.revoked': async (db, { at, body }) => {
    await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', body.id).execute();
  },
};

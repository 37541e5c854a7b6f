// What the SQLite store's migrations leave on disk, where the shape matters for cost: idempotency keys
// are random, so an index on the key alone would take a page write at a random place per event.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';

describe('the SQLite schema', () => {
  it('indexes idempotency keys only by (api_key_id, key)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'herald-schema-')), 'herald.db');
    await (await openStore({ HERALD_DB: file })).close();
    const raw = new Database(file, { readonly: true });
    try {
      const indexes = raw.prepare("SELECT name FROM pragma_index_list('idempotency_keys')").pluck().all();
      expect(indexes).toEqual(['sqlite_autoindex_idempotency_keys_1']);
      const columns = raw.prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_idempotency_keys_1') ORDER BY seqno").pluck().all();
      expect(columns).toEqual(['api_key_id', 'key']);
    } finally {
      raw.close();
    }
  });
});

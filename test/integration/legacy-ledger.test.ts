// A ledger written by herald 0.1.0 (test/fixtures/ledger-v0.1.0.db: a lease and a result entry per
// attempt, before attempts.leased / attempt.recorded) still verifies, migrates, rebuilds equal to its
// projections, and reads through the API as it did.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { startTestHerald } from '../support/herald.js';

const FIXTURE = new URL('../fixtures/ledger-v0.1.0.db', import.meta.url);

function copyOfFixture(): { dir: string; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-legacy-'));
  const db = join(dir, 'herald.db');
  copyFileSync(FIXTURE, db);
  return { dir, db };
}

describe('a ledger written by herald 0.1.0', () => {
  it('verifies and rebuilds equal after migrating', async () => {
    const { db } = copyOfFixture();
    const store = await openStore({ HERALD_DB: db });
    try {
      const kinds = new Set((await store.read.ledger.entriesAfter(0, 1000)).map((e) => e.kind));
      for (const k of ['attempt.started', 'attempt.finished', 'attempt.interrupted', 'deliveries.requeued', 'digest.created']) expect(kinds).toContain(k);
      expect(await store.verify()).toMatchObject({ ok: true, entries: 105 });
      const report = await store.rebuildCheck();
      expect(report.differences).toEqual([]);
      expect(report.tables).toMatchObject({ deliveries: 34, attempts: 35 });
    } finally {
      await store.close();
    }
  });

  it('serves its history, and the engine goes on appending to the same chain', async () => {
    const { dir, db } = copyOfFixture();
    type Details = { delivery_id: string; n: number; request_headers_json: string | null; response_headers_json: string | null; response_body: string | null; remote_address: string | null };
    const raw = new Database(db, { readonly: true });
    const detailsBeforeMigrating = raw
      .prepare('SELECT delivery_id, n, request_headers_json, response_headers_json, response_body, remote_address FROM attempts')
      .all() as Details[];
    raw.close();
    expect(detailsBeforeMigrating.filter((r) => r.response_body !== null).length).toBeGreaterThan(5);
    // Its key was not kept (its sealed secrets stay sealed), so herald is given one explicitly.
    const h = await startTestHerald({ HERALD_DB: db, HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') }, { dir });
    try {
      const dead = await h.request<{ data: Array<{ id: string; attempt_count: number }> }>('GET', '/v1/deliveries?status=dead&limit=50');
      expect(dead.status).toBe(200);
      expect(dead.body.data.length).toBeGreaterThan(0);
      // An attempt's details moved from its row to its ledger entry (migration 006): they read the same.
      for (const before of detailsBeforeMigrating) {
        const d = await h.request<{ attempts: Array<Record<string, unknown>> }>('GET', `/v1/deliveries/${before.delivery_id}`);
        const a = d.body.attempts.find((x) => x.n === before.n)!;
        expect({ request_headers: a.request_headers, response_headers: a.response_headers, response_body: a.response_body, remote_address: a.remote_address }).toEqual({
          request_headers: JSON.parse(before.request_headers_json ?? 'null'),
          response_headers: JSON.parse(before.response_headers_json ?? 'null'),
          response_body: before.response_body,
          remote_address: before.remote_address,
        });
      }
      const one = await h.request<{ attempts: Array<{ n: number; outcome: string; finished_at: string | null }> }>('GET', `/v1/deliveries/${dead.body.data[0]!.id}`);
      expect(one.body.attempts.length).toBeGreaterThan(0);
      expect(one.body.attempts.every((a) => a.finished_at !== null && a.outcome)).toBe(true);
      const v = await h.request<{ ok: boolean; entries: number }>('GET', '/v1/ledger/verify');
      expect(v.body.ok).toBe(true);
      expect(v.body.entries).toBeGreaterThan(105); // herald.started and whatever the engine did since
    } finally {
      await h.stop();
    }
    h.cleanup();
  });
});

// A database locked by another process: writes wait for it without blocking the event loop, then
// answer 503 with Retry-After (never a 500); readiness says so; both clear by themselves once the lock
// is released.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useHerald } from '../support/herald.js';

describe('a database locked by another process', () => {
  const herald = useHerald({ HERALD_LOCK_WAIT_MS: 1500 });

  it('answers writes 503 with Retry-After, serves other requests meanwhile, and recovers when the lock goes', async () => {
    const h = herald();
    const other = new Database(h.dbPath);
    try {
      other.exec('BEGIN IMMEDIATE'); // holds the write lock
      const done: string[] = [];
      const post = h.request('POST', '/v1/events', { body: { type: 'locked.one' }, headers: { 'idempotency-key': 'locked-1' } }).then((r) => {
        done.push('post');
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      const health = await h.request('GET', '/healthz');
      done.push('healthz');
      expect(health.status).toBe(200);
      expect((await h.request('GET', '/readyz')).status).toBe(503);
      const refused = await post;
      expect(done).toEqual(['healthz', 'post']); // the wait for the lock did not hold up the event loop
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((refused.body as { detail: string }).detail).toMatch(/locked by another process/);
      other.exec('ROLLBACK');
      expect((await h.request('GET', '/readyz')).status).toBe(200);
      const later = await h.request('POST', '/v1/events', { body: { type: 'locked.one' }, headers: { 'idempotency-key': 'locked-1' } });
      expect(later.status).toBe(202);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });
});

// The disk holding the database fills up (a small tmpfs, filled by the test): writes answer 507 with
// Retry-After and record nothing, /readyz says not ready; once space is freed both clear by
// themselves, and what was acknowledged before is intact. Mounting needs root on Linux: elsewhere
// the test is skipped, saying why.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/api.js';
import { finish, startTestHerald, trackFailures } from '../support/herald.js';
import { waitFor } from '../support/receiver.js';

/** Mounts a tmpfs of `size` on a fresh directory; throws when it cannot. */
function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(dir);
    throw new Error(((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim());
  }
  return dir;
}

function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
  rmdirSync(dir);
}

const whyNot = ((): string | null => {
  if (process.platform !== 'linux') return 'it mounts a tmpfs, which needs Linux';
  if (process.getuid?.() !== 0) return 'it mounts a tmpfs, which needs root (run npm test as root to include it)';
  try {
    unmount(mountTmpfs('1m'));
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message}`;
  }
})();
if (whyNot) console.warn(`disk-full test skipped: ${whyNot}`);

/** Writes files of `chunk` bytes into `dir` until the disk is full (then smaller ones, to the last block). */
function fill(dir: string): void {
  let n = 0;
  for (const size of [256 * 1024, 4096]) {
    for (;;) {
      try {
        writeFileSync(join(dir, `filler-${n++}`), Buffer.alloc(size, 1));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        break;
      }
    }
  }
}

describe('a full disk', () => {
  const failures = trackFailures();

  it.skipIf(whyNot !== null)('answers writes 507 with Retry-After, readiness says so, and both clear once space is freed', { timeout: 60_000 }, async () => {
    const mnt = mountTmpfs('8m');
    let h: Awaited<ReturnType<typeof startTestHerald>> | undefined;
    try {
      h = await startTestHerald({ HERALD_DB: join(mnt, 'herald.db') });
      const post = (type: string, i: number, pad = 0) =>
        h!.request('POST', '/v1/events', { body: { type, data: { i, pad: 'x'.repeat(pad) } }, headers: { 'idempotency-key': `${type}-${i}` } });
      const before: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await post('before.full', i);
        expect(r.status).toBe(202);
        before.push((r.body as { id: string }).id);
      }
      expect((await h.request('GET', '/readyz')).status).toBe(200);

      fill(mnt);
      const ready = await h.request('GET', '/readyz');
      expect(expectProblem(ready, 503).detail).toMatch(/disk holding the database is full/);

      // what the write-ahead log already holds may take a few more writes; then SQLite finds no room
      const answers: Array<{ i: number; status: number }> = [];
      let refused: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await post('while.full', i, 50_000);
        answers.push({ i, status: r.status });
        if (r.status !== 202) refused = r;
      }
      expect(answers.filter((a) => a.status !== 202 && a.status !== 507)).toEqual([]); // never a 500
      expect(refused).toBeDefined();
      expect(expectProblem(refused!, 507, 'storage-full').detail).toMatch(/disk holding the database is full; nothing was recorded/);
      expect(refused!.headers.get('retry-after')).toBe('1');
      expect((await h.request('GET', '/healthz')).status).toBe(200);
      expect((await h.request('GET', '/readyz')).status).toBe(503);

      for (const f of readdirSync(mnt).filter((f) => f.startsWith('filler-'))) rmSync(join(mnt, f));
      await waitFor('/readyz to say ready', async () => (await h!.request('GET', '/readyz')).status === 200, 5000);
      const refusedAt = answers.find((a) => a.status === 507)!.i;
      const again = await post('while.full', refusedAt, 50_000);
      expect(again.status).toBe(202); // the refused event was not recorded: its key is new
      expect(again.headers.get('idempotent-replayed')).toBeNull();

      for (const id of before) expect((await h.request('GET', `/v1/events/${id}`)).status).toBe(200);
      const accepted = answers.filter((a) => a.status === 202).map((a) => a.i);
      const listed = await h.request<{ data: Array<{ data: { i: number } }> }>('GET', '/v1/events?type=while.full&limit=100');
      expect(listed.body.data.map((e) => e.data.i).sort((a, b) => a - b)).toEqual([...accepted, refusedAt].sort((a, b) => a - b));
      expect((await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify')).body.ok).toBe(true);
    } finally {
      await finish(h, failures.failed);
      unmount(mnt);
    }
  });
});

// The shared harness itself: a fresh herald per call, reachable over a real socket, restartable on the same file.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { finish, startTestHerald, trackFailures } from '../support/herald.js';

describe('test harness', () => {
  const failures = trackFailures();

  it('starts herald on a fresh file, answers over HTTP, restarts on the same file, cleans up', async () => {
    const a = await startTestHerald();
    const b = await startTestHerald();
    try {
      expect(a.dir).not.toBe(b.dir);
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await a.request('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
      const readKey = await a.createKey('read');
      expect((await a.request('GET', '/v1/events', { key: readKey })).status).toBe(200);
      expect((await a.request('GET', '/v1/events', { key: null })).status).toBe(401);
      const a2 = await a.restart();
      expect(a2.dbPath).toBe(a.dbPath);
      expect((await a2.request('GET', '/v1/events', { key: readKey })).status).toBe(200);
      await finish(a2, failures.failed);
      expect(existsSync(a.dir)).toBe(failures.failed);
    } finally {
      await a.stop();
      await finish(b, failures.failed);
    }
  });

  it('runs the CLI as a child process', async () => {
    const r = await runCli(['help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ledger rebuild --check');
  });
});

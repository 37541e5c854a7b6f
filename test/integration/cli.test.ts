// The herald command run as a child process: migrate, keys create, ledger verify, bad settings.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueKey } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { finish, startTestHerald, trackFailures } from '../support/herald.js';

describe('herald CLI', () => {
  const failures = trackFailures();
  const dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  afterAll(() => {
    if (!failures.failed) rmSync(dir, { recursive: true, force: true });
  });

  it('migrate creates a database on a fresh path (with the append-only ledger) and is repeatable', async () => {
    const db = join(dir, 'nested', 'fresh.db');
    expect(existsSync(db)).toBe(false);
    const r = await runCli(['migrate'], { HERALD_DB: db });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('up to date');
    expect(existsSync(db)).toBe(true);
    const raw = new Database(db, { readonly: true });
    try {
      const names = (raw.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')").all() as Array<{ name: string }>).map((n) => n.name);
      expect(names).toEqual(expect.arrayContaining(['ledger', 'events', 'endpoints', 'deliveries', 'attempts', 'api_keys', 'ledger_refuses_update', 'ledger_refuses_delete']));
      expect((raw.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n).toBe(0);
    } finally {
      raw.close();
    }
    expect((await runCli(['migrate'], { HERALD_DB: db })).code).toBe(0);
    const verify = await runCli(['ledger', 'verify'], { HERALD_DB: db });
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, entries: 0 });
  });

  it('serve on a port already in use stops whole: exit 1 naming the cause, nothing left running, nothing delivered', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    const port = (taken.address() as AddressInfo).port;
    const db = join(dir, 'busy-port.db');
    try {
      const r = await runCli(['serve'], { HERALD_DB: db, HERALD_PORT: String(port), HERALD_ADMIN_KEY: 'k'.repeat(20) }, 15_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      // It wrote nothing: herald.started is appended only once herald is listening.
      const raw = new Database(db, { readonly: true });
      try {
        expect((raw.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n).toBe(0);
      } finally {
        raw.close();
      }
    } finally {
      taken.close();
    }
  });

  it('keys create --role read --name x prints a key that works against a herald on that database', async () => {
    const h = await startTestHerald();
    try {
      const r = await runCli(['keys', 'create', '--role', 'read', '--name', 'x'], { HERALD_DB: h.dbPath });
      expect(r.code).toBe(0);
      const key = r.stdout.trim();
      expect(key).toMatch(/^\S{32,}$/);
      expect(r.stderr).toContain('read key "x"');
      // herald (already running on the same file) accepts it, with the read role
      const events = await h.request('GET', '/v1/events', { key });
      expect(events.status).toBe(200);
      const ingestTry = await h.request('POST', '/v1/events', { key, body: { type: 'cli.x' }, headers: { 'idempotency-key': uniqueKey() } });
      expect(ingestTry.status).toBe(403);
      const keys = await h.request<{ data: Array<{ name: string; role: string; key_prefix: string }> }>('GET', '/v1/keys');
      expect(keys.body.data).toContainEqual(expect.objectContaining({ name: 'x', role: 'read', key_prefix: key.slice(0, 10) }));
      // and the ledger records who made it
      const ledger = await h.request<{ data: Array<{ kind: string; actor: string; body: { name?: string } }> }>('GET', '/v1/ledger?limit=1000');
      expect(ledger.body.data).toContainEqual(expect.objectContaining({ kind: 'api_key.created', actor: 'cli', body: expect.objectContaining({ name: 'x', role: 'read' }) }));
    } finally {
      await finish(h, failures.failed);
    }
  });

  it('refuses bad arguments and a bad configuration with exit code 2 and a clear message', async () => {
    const db = join(dir, 'args.db');
    const noRole = await runCli(['keys', 'create', '--name', 'x'], { HERALD_DB: db });
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toMatch(/--role/);
    const badRole = await runCli(['keys', 'create', '--role', 'root', '--name', 'x'], { HERALD_DB: db });
    expect(badRole.code).toBe(2);
    const unknown = await runCli(['frobnicate'], { HERALD_DB: db });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: herald');
    const badConfig = await runCli(['migrate'], { HERALD_DB: db, HERALD_PORT: 'not-a-port' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/HERALD_PORT/);
    const shortAdmin = await runCli(['migrate'], { HERALD_DB: db, HERALD_ADMIN_KEY: 'short' });
    expect(shortAdmin.code).toBe(2);
    expect(shortAdmin.stderr).toMatch(/HERALD_ADMIN_KEY/);
  });
});

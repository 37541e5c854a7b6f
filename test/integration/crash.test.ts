// A herald process killed with SIGKILL in the middle of an attempt: a new process on the same file
// records the attempt as interrupted, retries the delivery (at least once, never lost), and the
// ledger still verifies.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { startReceiver, waitFor } from '../support/receiver.js';
import { trackFailures } from '../support/herald.js';

const ADMIN = 'crash-test-admin-key-0123456789';

function spawnHerald(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), 'serve'], {
    env: { ...base, HERALD_PORT: '0', HERALD_ADMIN_KEY: ADMIN, HERALD_ALLOW_PRIVATE_NETWORKS: 'true', HERALD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { msg?: string; url?: string };
        if (msg.msg === 'herald is listening' && msg.url) resolve({ child, url: msg.url });
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`herald exited early (${code})`)));
  });
}

async function api<T>(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as T;
}

describe('crash recovery', () => {
  const failures = trackFailures();
  const dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    if (!failures.failed) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL mid-attempt: the next process retries the delivery and records interrupted', async () => {
    const env = { HERALD_DB: join(dir, 'herald.db'), HERALD_LEASE_MARGIN_MS: '300', HERALD_MAINTENANCE_CRON: '* * * * * *' };
    const rx = await startReceiver({ status: 200, delayMs: 60_000 }); // hangs: the attempt is in flight when we kill
    try {
      const first = await spawnHerald(env);
      children.push(first.child);
      await api(first.url, 'POST', '/v1/endpoints', { channel: 'webhook', url: `${rx.url}/crash`, events: ['crash.*'], timeout_ms: 1000 });
      const ev = await api<{ deliveries: Array<{ id: string }> }>(first.url, 'POST', '/v1/events', { type: 'crash.test' }, { 'idempotency-key': 'crash-1' });
      const id = ev.deliveries[0]!.id;
      await waitFor('the attempt to reach the receiver', () => rx.received.length === 1);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));

      rx.reply({ status: 200 });
      const second = await spawnHerald(env);
      children.push(second.child);
      const d = await waitFor(
        'the delivery to be retried and succeed',
        async () => {
          const x = await api<{ status: string; attempts: Array<{ outcome: string; trigger: string; error: string | null }> }>(second.url, 'GET', `/v1/deliveries/${id}`);
          return x.status === 'succeeded' ? x : null;
        },
        15_000,
      );
      expect(d.attempts.map((a) => [a.outcome, a.trigger])).toEqual([
        ['interrupted', 'initial'],
        ['succeeded', 'retry'],
      ]);
      expect(d.attempts[0]!.error).toMatch(/lease expired/);
      expect(rx.received.filter((r) => r.headers['webhook-id'] === id)).toHaveLength(2);
      const verify = await api<{ ok: boolean }>(second.url, 'GET', '/v1/ledger/verify');
      expect(verify.ok).toBe(true);
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
      const cli = await runCli(['ledger', 'verify'], { HERALD_DB: env.HERALD_DB });
      expect(cli.code).toBe(0);
    } finally {
      await rx.close();
    }
  });
});

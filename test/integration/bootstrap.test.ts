// SPEC "API keys": on first start with an empty store and no HERALD_ADMIN_KEY, herald creates an
// admin key and prints it once. The test helper always sets HERALD_ADMIN_KEY, so these tests start
// herald directly (startHerald) on a temp directory and capture what it announces.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Herald, startHerald } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { trackFailures } from '../support/herald.js';

const failures = trackFailures();
const dirs: string[] = [];
const running: Herald[] = [];

async function start(dir: string, overrides: Record<string, unknown> = {}): Promise<{ herald: Herald; announced: string[] }> {
  const announced: string[] = [];
  // An empty env: nothing from the process (e.g. a HERALD_ADMIN_KEY) leaks into the configuration.
  const config = loadConfig({}, { HERALD_DB: join(dir, 'herald.db'), HERALD_PORT: 0, HERALD_LOG_LEVEL: 'silent', ...overrides });
  const herald = await startHerald(config, { announce: (line) => announced.push(line) });
  running.push(herald);
  return { herald, announced };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bootstrap-'));
  dirs.push(dir);
  return dir;
}

async function get(herald: Herald, path: string, key: string | null): Promise<number> {
  const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
  const res = await fetch(herald.url + path, { headers });
  await res.text();
  return res.status;
}

async function createKey(herald: Herald, key: string): Promise<number> {
  const res = await fetch(`${herald.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `probe-${randomBytes(3).toString('hex')}`, role: 'read' }),
  });
  await res.text();
  return res.status;
}

/** The key at the end of the announcement line (the line says it is shown only once). */
function keyFrom(line: string): string {
  const key = line.trim().split(/\s+/).pop() ?? '';
  expect(key.length).toBeGreaterThanOrEqual(16);
  return key;
}

afterAll(async () => {
  for (const h of running) await h.stop();
  if (failures.failed) console.error(`herald test: kept ${dirs.join(', ')} for inspection`);
  else for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bootstrap admin key', () => {
  it('is created on an empty store, announced once, works as admin, and is not re-created on restart', async () => {
    const dir = tempDir();
    const first = await start(dir);
    expect(first.announced).toHaveLength(1);
    expect(first.announced[0]).toMatch(/admin API key/i);
    const key = keyFrom(first.announced[0]!);

    // It is an admin key: admin-only actions succeed with it.
    expect(await createKey(first.herald, key)).toBe(201);
    expect(await get(first.herald, '/v1/endpoints', key)).toBe(200);
    // A wrong key, or none, is refused.
    expect(await get(first.herald, '/v1/endpoints', `${key}x`)).toBe(401);
    expect(await get(first.herald, '/v1/endpoints', 'hk_not_a_real_key_at_all_0000')).toBe(401);
    expect(await get(first.herald, '/v1/endpoints', null)).toBe(401);
    expect(await createKey(first.herald, 'hk_not_a_real_key_at_all_0000')).toBe(401);

    // Restart on the same database: nothing new announced, and the first key still works.
    await first.herald.stop();
    const second = await start(dir);
    expect(second.announced).toEqual([]);
    expect(await get(second.herald, '/v1/endpoints', key)).toBe(200);
    expect(await createKey(second.herald, key)).toBe(201);
  });

  it('is not announced again on a restart right after bootstrap (only the bootstrap key in the store)', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const key = keyFrom(first.announced[0]!);
    await first.herald.stop();
    const second = await start(dir);
    expect(second.announced).toEqual([]);
    expect(await get(second.herald, '/v1/endpoints', key)).toBe(200);
  });

  it('is not created when HERALD_ADMIN_KEY is set, and that key is honoured as admin', async () => {
    const adminKey = `env_admin_${randomBytes(24).toString('base64url')}`;
    const { herald, announced } = await start(tempDir(), { HERALD_ADMIN_KEY: adminKey });
    expect(announced).toEqual([]);
    expect(await createKey(herald, adminKey)).toBe(201);
    expect(await get(herald, '/v1/endpoints', adminKey)).toBe(200);
    expect(await get(herald, '/v1/endpoints', `${adminKey}x`)).toBe(401);
  });
});

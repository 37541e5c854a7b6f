// Starts a real herald in-process on a fresh SQLite file in a temp directory, and talks to it over
// a real socket with fetch. The directory is kept when a test fails, so the database can be inspected.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Herald, startHerald } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { Role } from '../../src/domain/ledger-entry.js';

export interface RequestOptions {
  /** A JSON value (serialised), or a string sent exactly as given. */
  body?: unknown;
  /** The API key to send as a Bearer token: the admin key when omitted, no Authorization header when null. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface TestResponse<B = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON (application/json, application/problem+json), else the text. */
  body: B;
}

export interface TestHerald {
  url: string;
  adminKey: string;
  dbPath: string;
  dir: string;
  config: Config;
  herald: Herald;
  /** herald's log lines, parsed, when started with `captureLogs` (debug level and up); empty otherwise. */
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  /** Stops herald (idempotent); the directory stays. */
  stop(): Promise<void>;
  /** Stops this herald and starts a new one on the same database file, admin key and encryption key. */
  restart(overrides?: Record<string, unknown>): Promise<TestHerald>;
  /** Deletes the temp directory. Call it only once herald is stopped and the tests passed. */
  cleanup(): void;
  /** `B` is what the caller expects the body to be (not checked: parse with a schema to check it). */
  request<B = unknown>(method: string, path: string, opts?: RequestOptions): Promise<TestResponse<B>>;
  /** POST /v1/keys with the admin key; returns the key string. */
  createKey(role: Role, name?: string): Promise<string>;
}

export interface StartOptions {
  /** Reuse this directory (and its herald.db) instead of making a new one. */
  dir?: string;
  /** herald's clock (default: the real one), for tests of what happens days later. */
  clock?: () => Date;
  /** Keep herald's log lines (debug and up) in `logs` instead of discarding them. */
  captureLogs?: boolean;
}

export async function startTestHerald(overrides: Record<string, unknown> = {}, opts: StartOptions = {}): Promise<TestHerald> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  const adminKey = typeof overrides.HERALD_ADMIN_KEY === 'string' ? overrides.HERALD_ADMIN_KEY : `test_admin_${randomBytes(24).toString('base64url')}`;
  const dbPath = typeof overrides.HERALD_DB === 'string' ? overrides.HERALD_DB : join(dir, 'herald.db');
  const settings: Record<string, unknown> = {
    HERALD_DB: dbPath,
    HERALD_PORT: 0,
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_LOG_LEVEL: 'silent',
    ...overrides,
  };
  const config = loadConfig({}, settings);
  const logs: TestHerald['logs'] = [];
  const log = opts.captureLogs ? createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as TestHerald['logs'][number]) }) : undefined;
  const herald = await startHerald(config, { announce: () => {}, ...(opts.clock ? { clock: opts.clock } : {}), ...(log ? { log } : {}) });
  const url = herald.url;

  const request = async <B = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<TestResponse<B>> => {
    const headers: Record<string, string> = {};
    const key = o.key === undefined ? adminKey : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, o.headers ?? {});
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (/\bjson\b/i.test(type) && !/ndjson/i.test(type) && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as B };
  };

  const handle: TestHerald = {
    url,
    adminKey,
    dbPath,
    dir,
    config,
    herald,
    logs,
    stop: () => herald.stop(),
    restart: async (more = {}) => {
      await herald.stop();
      return startTestHerald({ ...overrides, HERALD_ADMIN_KEY: adminKey, HERALD_DB: dbPath, ...more }, { dir });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    request,
    createKey: async (role, name = `${role}-${randomBytes(4).toString('hex')}`) => {
      const r = await request<{ key: string }>('POST', '/v1/keys', { body: { name, role } });
      if (r.status !== 201) throw new Error(`POST /v1/keys answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body.key;
    },
  };
  return handle;
}

/**
 * Registers a "did any test in this file fail?" tracker (one per file or describe block). Use it to
 * delete temp directories only on success.
 */
export function trackFailures(): { readonly failed: boolean } {
  const state = { failed: false };
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      state.failed = true;
    });
  });
  return state;
}

/** Stops herald and deletes its directory if nothing failed; otherwise keeps it and says where. */
export async function finish(h: TestHerald | undefined, failed: boolean): Promise<void> {
  if (!h) return;
  await h.stop();
  if (failed) console.error(`herald test: kept ${h.dir} for inspection`);
  else h.cleanup();
}

/**
 * One herald for the whole file (or describe block): started in beforeAll, stopped in afterAll, its
 * directory deleted only when every test passed. Returns an accessor, since beforeAll runs later.
 */
export function useHerald(overrides: Record<string, unknown> = {}, opts: StartOptions = {}): () => TestHerald {
  let h: TestHerald | undefined;
  const failures = trackFailures();
  beforeAll(async () => {
    h = await startTestHerald(overrides, opts);
  });
  afterAll(async () => {
    await finish(h, failures.failed);
  });
  return () => {
    if (!h) throw new Error('herald is not started yet (use the accessor inside a test or hook)');
    return h;
  };
}

// API keys and roles: POST/GET/DELETE /v1/keys, 401 for a missing, unknown or revoked key, and the
// role matrix (ingest, read, operate, admin) answering 403 for what a role may not do.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiKeySchema } from '../../src/http/schemas.js';
import { createEndpoint, expectProblem, uniqueKey } from '../support/api.js';
import type { RequestOptions, TestHerald } from '../support/herald.js';
import { useHerald } from '../support/herald.js';

const herald = useHerald();
const HOOK = 'http://127.0.0.1:9/hook';
type Role = 'ingest' | 'read' | 'operate' | 'admin';

describe('/v1/keys', () => {
  it('creates a key shown once, lists keys without it, revokes it (then 401)', async () => {
    const h = herald();
    const r = await h.request('POST', '/v1/keys', { body: { name: 'ci-ingest', role: 'ingest' } });
    expect(r.status).toBe(201);
    const created = apiKeySchema.parse(r.body);
    expect(created).toMatchObject({ name: 'ci-ingest', role: 'ingest' });
    expect(created.id).toMatch(/^key_/);
    expect(created.key!.length).toBeGreaterThanOrEqual(32);
    expect(created.key_prefix).toBe(created.key!.slice(0, 10));

    const list = await h.request('GET', '/v1/keys');
    expect(list.status).toBe(200);
    const keys = z.object({ data: z.array(apiKeySchema) }).parse(list.body).data;
    const listed = keys.find((k) => k.id === created.id)!;
    expect(listed).toMatchObject({ name: 'ci-ingest', role: 'ingest', key_prefix: created.key_prefix, revoked_at: null });
    expect(listed.key).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(created.key!);

    expect((await h.request('POST', '/v1/events', { key: created.key!, body: { type: 'keys.ok' }, headers: { 'idempotency-key': uniqueKey() } })).status).toBe(202);
    const del = await h.request('DELETE', `/v1/keys/${created.id}`);
    expect(del.status).toBe(200);
    expect(apiKeySchema.parse(del.body).revoked_at).not.toBeNull();
    const p = expectProblem(await h.request('POST', '/v1/events', { key: created.key!, body: { type: 'keys.ok' }, headers: { 'idempotency-key': uniqueKey() } }), 401, 'unauthorized');
    expect(p.detail).toMatch(/revoked|not valid/);
    // revoking twice is harmless; an unknown key is a 404
    expect((await h.request('DELETE', `/v1/keys/${created.id}`)).status).toBe(200);
    expectProblem(await h.request('DELETE', '/v1/keys/key_01J00000000000000000000000'), 404, 'not-found');
  });

  it('refuses an invalid key request with 422', async () => {
    const h = herald();
    for (const body of [{}, { name: 'x' }, { role: 'read' }, { name: '', role: 'read' }, { name: 'x', role: 'root' }, { name: 'x', role: 'read', extra: 1 }]) {
      expectProblem(await h.request('POST', '/v1/keys', { body }), 422, 'validation');
    }
  });
});

describe('401', () => {
  it('no key, a malformed header, an unknown key and a revoked key are refused on every protected route', async () => {
    const h = herald();
    const revoked = apiKeySchema.parse((await h.request('POST', '/v1/keys', { body: { name: 'to-revoke', role: 'admin' } })).body);
    expect((await h.request('DELETE', `/v1/keys/${revoked.id}`)).status).toBe(200);
    const routes: Array<[string, string]> = [
      ['POST', '/v1/events'], ['POST', '/v1/events/batch'], ['GET', '/v1/events'], ['GET', '/v1/deliveries'],
      ['GET', '/v1/endpoints'], ['POST', '/v1/endpoints'], ['GET', '/v1/ledger'], ['GET', '/v1/ledger/verify'], ['GET', '/v1/keys'], ['POST', '/v1/keys'],
    ];
    const variants: RequestOptions[] = [
      { key: null },
      { key: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } },
      { key: null, headers: { authorization: 'Bearer' } },
      { key: null, headers: { authorization: `Token ${h.adminKey}` } },
      { key: 'hk_not-a-real-key-at-all-0000000000000000000' },
      { key: revoked.key! },
    ];
    for (const [method, path] of routes) {
      for (const v of variants) {
        const r = await h.request(method, path, { ...v, ...(method === 'POST' ? { body: {} } : {}) });
        expectProblem(r, 401, 'unauthorized');
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
  });
});

describe('roles (403)', () => {
  /** Each action, run with a key, answers its success status when the role may do it. */
  type Action = { name: string; ok: number; roles: Role[]; run: (h: TestHerald, key: string) => Promise<{ status: number }> };

  const endpointFor = async (h: TestHerald) => (await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['roles.*'] })).id;
  const actions: Action[] = [
    { name: 'POST /v1/events', ok: 202, roles: ['ingest', 'admin'], run: (h, key) => h.request('POST', '/v1/events', { key, body: { type: 'roles.x' }, headers: { 'idempotency-key': uniqueKey() } }) },
    { name: 'POST /v1/events/batch', ok: 200, roles: ['ingest', 'admin'], run: (h, key) => h.request('POST', '/v1/events/batch', { key, body: { events: [{ idempotency_key: uniqueKey(), type: 'roles.x' }] } }) },
    { name: 'GET /v1/events', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/events', { key }) },
    { name: 'GET /v1/deliveries', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/deliveries', { key }) },
    { name: 'GET /v1/endpoints', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/endpoints', { key }) },
    { name: 'GET /v1/endpoints/{id}', ok: 200, roles: ['read', 'operate', 'admin'], run: async (h, key) => h.request('GET', `/v1/endpoints/${await endpointFor(h)}`, { key }) },
    { name: 'GET /v1/deliveries/count', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/deliveries/count?status=dead', { key }) },
    { name: 'GET /v1/deliveries/requeue', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/deliveries/requeue', { key }) },
    { name: 'POST /v1/deliveries/requeue', ok: 202, roles: ['operate', 'admin'], run: (h, key) => h.request('POST', '/v1/deliveries/requeue', { key, body: { type: 'roles.*', status: 'dead' } }) },
    { name: 'GET /v1/ledger', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/ledger', { key }) },
    { name: 'GET /v1/ledger/verify', ok: 200, roles: ['read', 'operate', 'admin'], run: (h, key) => h.request('GET', '/v1/ledger/verify', { key }) },
    { name: 'POST /v1/endpoints/{id}/disable', ok: 200, roles: ['operate', 'admin'], run: async (h, key) => h.request('POST', `/v1/endpoints/${await endpointFor(h)}/disable`, { key }) },
    { name: 'POST /v1/endpoints/{id}/enable', ok: 200, roles: ['operate', 'admin'], run: async (h, key) => h.request('POST', `/v1/endpoints/${await endpointFor(h)}/enable`, { key }) },
    { name: 'POST /v1/endpoints/{id}/recover', ok: 202, roles: ['operate', 'admin'], run: async (h, key) => h.request('POST', `/v1/endpoints/${await endpointFor(h)}/recover`, { key, body: { since: new Date(Date.now() - 60_000).toISOString() } }) },
    { name: 'POST /v1/endpoints/{id}/test', ok: 202, roles: ['operate', 'admin'], run: async (h, key) => h.request('POST', `/v1/endpoints/${await endpointFor(h)}/test`, { key }) },
    { name: 'POST /v1/endpoints', ok: 201, roles: ['admin'], run: (h, key) => h.request('POST', '/v1/endpoints', { key, body: { channel: 'slack', url: HOOK, events: ['roles.*'] } }) },
    { name: 'PATCH /v1/endpoints/{id}', ok: 200, roles: ['admin'], run: async (h, key) => h.request('PATCH', `/v1/endpoints/${await endpointFor(h)}`, { key, body: { description: 'x' } }) },
    { name: 'DELETE /v1/endpoints/{id}', ok: 200, roles: ['admin'], run: async (h, key) => h.request('DELETE', `/v1/endpoints/${await endpointFor(h)}`, { key }) },
    { name: 'POST /v1/endpoints/{id}/rotate-secret', ok: 200, roles: ['admin'], run: async (h, key) => h.request('POST', `/v1/endpoints/${await endpointFor(h)}/rotate-secret`, { key }) },
    { name: 'GET /v1/endpoints/{id}/secret', ok: 200, roles: ['admin'], run: async (h, key) => h.request('GET', `/v1/endpoints/${await endpointFor(h)}/secret`, { key }) },
    { name: 'POST /v1/keys', ok: 201, roles: ['admin'], run: (h, key) => h.request('POST', '/v1/keys', { key, body: { name: 'made', role: 'read' } }) },
    { name: 'GET /v1/keys', ok: 200, roles: ['admin'], run: (h, key) => h.request('GET', '/v1/keys', { key }) },
    { name: 'DELETE /v1/keys/{id}', ok: 200, roles: ['admin'], run: async (h, key) => h.request('DELETE', `/v1/keys/${apiKeySchema.parse((await h.request('POST', '/v1/keys', { body: { name: 'victim', role: 'read' } })).body).id}`, { key }) },
  ];

  for (const role of ['ingest', 'read', 'operate', 'admin'] as const) {
    it(`the ${role} role may do exactly what it allows, 403 otherwise`, async () => {
      const h = herald();
      const key = await h.createKey(role, `matrix-${role}`);
      const outcome: Record<string, number> = {};
      const expected: Record<string, number> = {};
      for (const a of actions) {
        const r = await a.run(h, key);
        outcome[a.name] = r.status;
        expected[a.name] = a.roles.includes(role) ? a.ok : 403;
        if (r.status === 403) expectProblem(r as Parameters<typeof expectProblem>[0], 403, 'forbidden');
      }
      expect(outcome).toEqual(expected);
    });
  }

  it('the HERALD_ADMIN_KEY from the configuration is an admin key', async () => {
    const h = herald();
    expect((await h.request('GET', '/v1/keys', { key: h.adminKey })).status).toBe(200);
    expectProblem(await h.request('GET', '/v1/keys', { key: `${h.adminKey}x` }), 401, 'unauthorized');
  });
});

// No-key operations routes: liveness, readiness, Prometheus metrics and the OpenAPI 3.1 document,
// which must describe every row of the SPEC's API table with the role the route enforces.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingest } from '../support/api.js';
import { startTestHerald, useHerald } from '../support/herald.js';

const herald = useHerald();

/** The API table of SPEC.md: method, path, role (null: no key). */
const SPEC_TABLE: Array<[string, string, string | null]> = [
  ['post', '/v1/events', 'ingest'],
  ['post', '/v1/events/batch', 'ingest'],
  ['get', '/v1/events', 'read'],
  ['get', '/v1/events/{id}', 'read'],
  ['post', '/v1/endpoints', 'admin'],
  ['get', '/v1/endpoints', 'read'],
  ['get', '/v1/endpoints/{id}', 'read'],
  ['patch', '/v1/endpoints/{id}', 'admin'],
  ['delete', '/v1/endpoints/{id}', 'admin'],
  ['post', '/v1/endpoints/{id}/rotate-secret', 'admin'],
  ['get', '/v1/endpoints/{id}/secret', 'admin'],
  ['post', '/v1/endpoints/{id}/enable', 'operate'],
  ['post', '/v1/endpoints/{id}/disable', 'operate'],
  ['post', '/v1/endpoints/{id}/recover', 'operate'],
  ['post', '/v1/endpoints/{id}/test', 'operate'],
  ['get', '/v1/deliveries', 'read'],
  ['get', '/v1/deliveries/{id}', 'read'],
  ['post', '/v1/deliveries/{id}/redeliver', 'operate'],
  ['get', '/v1/ledger', 'read'],
  ['get', '/v1/ledger/verify', 'read'],
  ['post', '/v1/keys', 'admin'],
  ['get', '/v1/keys', 'admin'],
  ['delete', '/v1/keys/{id}', 'admin'],
  ['get', '/healthz', null],
  ['get', '/readyz', null],
  ['get', '/metrics', null],
  ['get', '/openapi.json', null],
];

const operationSchema = z
  .object({
    summary: z.string().min(1),
    security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
    'x-herald-role': z.string().optional(),
    parameters: z.array(z.object({ name: z.string(), in: z.string() })).optional(),
    responses: z.record(z.string(), z.object({ description: z.string(), content: z.record(z.string(), z.object({ schema: z.unknown() })).optional() })),
  })
  .passthrough();
const docSchema = z.object({
  openapi: z.string(),
  info: z.object({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), operationSchema)),
  components: z.object({ schemas: z.record(z.string(), z.unknown()), securitySchemes: z.record(z.string(), z.unknown()) }),
});

describe('operations', () => {
  it('/healthz answers ok without a key', async () => {
    const r = await herald().request('GET', '/healthz', { key: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('/readyz answers ready while the store is writable', async () => {
    const r = await herald().request('GET', '/readyz', { key: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready' });
  });

  it('/metrics is Prometheus text, and herald_events_ingested_total counts ingested events', async () => {
    const h = herald();
    const read = async () => {
      const r = await h.request<string>('GET', '/metrics', { key: null });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      return r.body;
    };
    const counter = (text: string) => {
      const m = /^herald_events_ingested_total\{source="api"\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await read();
    expect(before).toContain('# TYPE herald_events_ingested_total counter');
    expect(before).toMatch(/^# HELP herald_events_ingested_total /m);
    for (let i = 0; i < 3; i++) await ingest(h, { type: 'metrics.x' });
    const after = await read();
    expect(counter(after) - counter(before)).toBe(3);
    for (const name of ['herald_ledger_entries_total', 'herald_queue_depth', 'herald_ingest_replays_total']) expect(after).toContain(name);
  });

  it('/openapi.json is OpenAPI 3.1 and documents every row of the API table with its role', async () => {
    const r = await herald().request('GET', '/openapi.json', { key: null });
    expect(r.status).toBe(200);
    const doc = docSchema.parse(r.body);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBe('herald');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    for (const [method, path, role] of SPEC_TABLE) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
      expect(op!['x-herald-role'] ?? null, `${method.toUpperCase()} ${path} role`).toBe(role);
      if (role) {
        expect(op!.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
      if (path.includes('{id}')) expect(op!.parameters?.some((p) => p.name === 'id' && p.in === 'path'), `${path} has an id parameter`).toBe(true);
      expect(op!.responses.default?.content?.['application/problem+json']).toBeDefined();
    }
    // the shapes clients rely on are components, and the answers point at them
    for (const name of ['Problem', 'IngestAnswer', 'Event', 'EventWithDeliveries', 'Endpoint', 'EndpointInput', 'DeliveryWithAttempts', 'BatchAnswer', 'LedgerEntry', 'LedgerVerification', 'ApiKey']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    expect(JSON.stringify(doc.paths['/v1/events']!.post!.responses['202'])).toContain('#/components/schemas/IngestAnswer');
    expect(JSON.stringify(doc.paths['/v1/deliveries/{id}']!.get!.responses['200'])).toContain('#/components/schemas/DeliveryWithAttempts');
    expect(JSON.stringify(doc.paths['/v1/events']!.post)).toMatch(/idempotency-key/i);
  });

  it('an unknown route is a 404 problem, not an HTML page', async () => {
    const r = await herald().request('GET', '/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('/metrics under load and behind a token', () => {
  it('reads the queue gauges from the store at most once a second', async () => {
    let now = Date.parse('2026-11-01T10:00:00Z');
    const h = await startTestHerald({}, { clock: () => new Date(now) });
    try {
      const depth = async () => {
        const text = (await h.request<string>('GET', '/metrics', { key: null })).body;
        return [...text.matchAll(/^herald_queue_depth\{state="(?:waiting|delivering)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      };
      expect(await depth()).toBe(0);
      await h.request('POST', '/v1/endpoints', { body: { channel: 'webhook', url: 'http://127.0.0.1:9/x', events: ['gauge.*'] } });
      await ingest(h, { type: 'gauge.one' });
      expect(await depth()).toBe(0); // the same second: the figures read a moment ago
      now += 1000;
      expect(await depth()).toBe(1);
    } finally {
      await h.stop();
    }
    h.cleanup();
  });

  it('with HERALD_METRICS_TOKEN, answers only Authorization: Bearer <token>', async () => {
    const h = await startTestHerald({ HERALD_METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await h.request('GET', '/metrics', { key: null })).status).toBe(401);
      expect((await h.request('GET', '/metrics', { key: 'metrics-token-wrong-0000' })).status).toBe(401);
      const ok = await h.request<string>('GET', '/metrics', { key: 'metrics-token-0123456789' });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('herald_queue_depth');
    } finally {
      await h.stop();
    }
    h.cleanup();
  });
});

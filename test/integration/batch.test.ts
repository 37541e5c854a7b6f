// POST /v1/events/batch: per-item results in order, each with the status a single POST /v1/events
// would have answered, replays and repeated keys, and the 1,000-item bound.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { batchAnswerSchema, eventSchema } from '../../src/http/schemas.js';
import { expectProblem, uniqueKey } from '../support/api.js';
import type { TestHerald, TestResponse } from '../support/herald.js';
import { useHerald } from '../support/herald.js';

const herald = useHerald({ HERALD_MAX_BODY_BYTES: 2048 });

type BatchAnswer = z.output<typeof batchAnswerSchema>;
type Item = Record<string, unknown>;

async function batch(h: TestHerald, events: unknown[], key?: string): Promise<BatchAnswer> {
  const r = await h.request('POST', '/v1/events/batch', { body: { events }, key });
  expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
  return batchAnswerSchema.parse(r.body);
}

/** What POST /v1/events answers for a batch item: its key in the header, the rest as the body. */
function single(h: TestHerald, item: Item, key: string): Promise<TestResponse> {
  const { idempotency_key: idem, ...body } = item;
  return h.request('POST', '/v1/events', { body, key, headers: typeof idem === 'string' ? { 'idempotency-key': idem } : {} });
}

const deep = (n: number): unknown => (n === 0 ? 1 : { d: deep(n - 1) });

describe('POST /v1/events/batch', () => {
  it('answers one result per item, in order, each with the status a single POST would answer', async () => {
    const h = herald();
    const [singleKey, batchKey] = [await h.createKey('ingest', 'singles'), await h.createKey('ingest', 'batches')];
    const pre = uniqueKey('pre');
    const k1 = uniqueKey('k1');
    const items: Item[] = [
      { idempotency_key: k1, type: 'batch.a', data: { i: 0 } }, // 202
      { idempotency_key: uniqueKey(), type: 'herald.forged' }, // 422 reserved type
      { idempotency_key: pre, type: 'batch.pre' }, // replay of an earlier single POST
      { idempotency_key: pre, type: 'batch.pre', data: { changed: true } }, // 422 key reused
      { idempotency_key: k1, type: 'batch.a', data: { i: 0 } }, // repeated in this batch: a replay of item 0
      { idempotency_key: k1, type: 'batch.b' }, // repeated with another body: 422
      { type: 'batch.nokey' }, // 400 missing key
      { idempotency_key: 'k'.repeat(256), type: 'batch.longkey' }, // 400 key too long
      { idempotency_key: uniqueKey(), type: 'batch.deep', data: deep(100) }, // 422 too deep
      { idempotency_key: uniqueKey(), type: 'batch.big', data: { pad: 'x'.repeat(4096) } }, // 413 over HERALD_MAX_BODY_BYTES
      { idempotency_key: uniqueKey(), type: 'batch.c', user: 'alice' }, // 202
      JSON.parse(`{"idempotency_key":"${uniqueKey()}","type":"batch.proto","__proto__":{"x":1}}`) as Item, // 422 unknown field, as single
    ];
    // the same starting point in both scopes: `pre` already used once
    for (const key of [singleKey, batchKey]) expect((await single(h, { idempotency_key: pre, type: 'batch.pre' }, key)).status).toBe(202);

    const singles: TestResponse[] = [];
    for (const item of items) singles.push(await single(h, item, singleKey));
    const { results } = await batch(h, items, batchKey);

    expect(results).toHaveLength(items.length);
    expect(results.map((r) => r.status)).toEqual([202, 422, 202, 422, 202, 422, 400, 400, 422, 413, 202, 422]);
    results.forEach((r, i) => {
      const s = singles[i]!;
      expect(r.status, `item ${i}`).toBe(s.status);
      expect(r.idempotency_key).toBe(typeof items[i]!.idempotency_key === 'string' ? items[i]!.idempotency_key : null);
      expect(Boolean(r.replayed), `item ${i} replayed`).toBe(s.headers.get('idempotent-replayed') === 'true');
      if (s.status >= 400) {
        expect(r.event).toBeUndefined();
        expect(r.error?.type, `item ${i}`).toBe((s.body as { type: string }).type);
        expect(r.error?.status).toBe(s.status);
      } else {
        expect(r.error).toBeUndefined();
        expect(r.event?.type).toBe((s.body as { type: string }).type);
      }
    });
    // the repeat inside the batch answers the same event as its first occurrence
    expect(results[4]!.event).toEqual(results[0]!.event);
    // a replay of a key used before the batch answers that earlier event, not a new one
    expect(results[2]!.replayed).toBe(true);

    // what was accepted is recorded, once
    for (const i of [0, 10]) {
      const got = await h.request('GET', `/v1/events/${results[i]!.event!.id}`, { key: batchKey });
      expect(got.status).toBe(403); // an ingest key cannot read...
      const asAdmin = await h.request('GET', `/v1/events/${results[i]!.event!.id}`);
      expect(eventSchema.parse(asAdmin.body).type).toBe(items[i]!.type);
    }
    for (const type of ['batch.a', 'batch.c', 'batch.pre']) {
      const r = await h.request<{ data: unknown[] }>('GET', `/v1/events?type=${type}`);
      expect(r.body.data, type).toHaveLength(2); // one per scope
    }
    for (const type of ['batch.b', 'batch.nokey', 'batch.longkey', 'batch.deep', 'batch.big']) {
      const r = await h.request<{ data: unknown[] }>('GET', `/v1/events?type=${type}`);
      expect(r.body.data, type).toHaveLength(0);
    }
  });

  it('sending the same batch again replays every accepted item and repeats every error', async () => {
    const h = herald();
    const key = await h.createKey('ingest');
    const items = [
      { idempotency_key: uniqueKey(), type: 'batch.again', data: { n: 1 } },
      { idempotency_key: uniqueKey(), type: '' },
      { idempotency_key: uniqueKey(), type: 'batch.again', data: { n: 2 } },
    ];
    const first = await batch(h, items, key);
    const second = await batch(h, items, key);
    expect(first.results.map((r) => [r.status, Boolean(r.replayed)])).toEqual([[202, false], [422, false], [202, false]]);
    expect(second.results.map((r) => [r.status, Boolean(r.replayed)])).toEqual([[202, true], [422, false], [202, true]]);
    expect(second.results[0]!.event).toEqual(first.results[0]!.event);
    expect(second.results[2]!.event).toEqual(first.results[2]!.event);
    // and a single POST with a batch item's key replays it too
    const s = await single(h, items[2]!, key);
    expect(s.headers.get('idempotent-replayed')).toBe('true');
    expect(s.body).toEqual(first.results[2]!.event);
  });

  it('takes 1,000 events and refuses 1,001 (422) without recording any of them', async () => {
    const h = herald();
    const key = await h.createKey('ingest');
    const make = (n: number, type: string) => Array.from({ length: n }, (_, i) => ({ idempotency_key: `${type}-${i}`, type, data: { i } }));

    expectProblem(await h.request('POST', '/v1/events/batch', { body: { events: make(1001, 'batch.over') }, key }), 422, 'validation');
    const over = await h.request<{ data: unknown[] }>('GET', '/v1/events?type=batch.over');
    expect(over.body.data).toHaveLength(0);

    const { results } = await batch(h, make(1000, 'batch.max'), key);
    expect(results).toHaveLength(1000);
    expect(results.every((r, i) => r.status === 202 && r.idempotency_key === `batch.max-${i}`)).toBe(true);
    expect(new Set(results.map((r) => r.event!.id)).size).toBe(1000);
    const page = await h.request<{ data: unknown[]; next_cursor: string | null }>('GET', '/v1/events?type=batch.max&limit=500');
    expect(page.body.data).toHaveLength(500);
    expect(page.body.next_cursor).not.toBeNull();
  });

  it('refuses what is not a batch: 422 for a wrong shape, 400 for malformed JSON, 403 for a read key', async () => {
    const h = herald();
    const key = await h.createKey('ingest');
    for (const body of [{}, { events: [] }, { events: 'x' }, { events: [1, 2] }, { events: [{ type: 'a', idempotency_key: 'a' }], extra: 1 }]) {
      expectProblem(await h.request('POST', '/v1/events/batch', { body, key }), 422, 'validation');
    }
    expectProblem(await h.request('POST', '/v1/events/batch', { body: '{"events": [', key }), 400, 'bad-request');
    expectProblem(await h.request('POST', '/v1/events/batch', { body: { events: [{ idempotency_key: 'r', type: 'a' }] }, key: await h.createKey('read') }), 403, 'forbidden');
    expectProblem(await h.request('POST', '/v1/events/batch', { body: { events: [{ idempotency_key: 'r', type: 'a' }] }, key: null }), 401, 'unauthorized');
  });
});

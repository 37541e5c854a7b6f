// POST /v1/events: validation, every Idempotency-Key case of the IETF draft, and bad input that
// must be a 4xx problem (never a 500).
import { describe, expect, it } from 'vitest';
import { eventSchema, eventWithDeliveriesSchema, ingestAnswerSchema } from '../../src/http/schemas.js';
import { expectProblem, postEvent, uniqueKey } from '../support/api.js';
import { finish, startTestHerald, trackFailures, useHerald } from '../support/herald.js';

const herald = useHerald();

async function countEvents(type: string): Promise<number> {
  const r = await herald().request<{ data: unknown[] }>('GET', `/v1/events?type=${encodeURIComponent(type)}&limit=500`);
  expect(r.status).toBe(200);
  return r.body.data.length;
}

describe('POST /v1/events', () => {
  it('answers 202 with the event id and its (pending) deliveries, once it is recorded', async () => {
    const h = herald();
    const r = await postEvent(h, { type: 'ingest.ok', subject: 'job-1', user: 'alice', source: 'ci', occurred_at: '2026-01-02T03:04:05+01:00', data: { n: 1 } });
    expect(r.status).toBe(202);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    const answer = ingestAnswerSchema.parse(r.body);
    expect(answer.id).toMatch(/^evt_/);
    expect(answer.type).toBe('ingest.ok');
    expect(new Date(answer.received_at).toISOString()).toBe(answer.received_at);
    expect(answer.deliveries.every((d) => d.status === 'pending')).toBe(true);

    const got = await h.request('GET', `/v1/events/${answer.id}`);
    expect(got.status).toBe(200);
    const event = eventWithDeliveriesSchema.parse(got.body);
    expect(event).toMatchObject({
      id: answer.id,
      type: 'ingest.ok',
      subject: 'job-1',
      user: 'alice',
      source: 'ci',
      occurred_at: '2026-01-02T02:04:05.000Z', // normalised to UTC
      received_at: answer.received_at,
      data: { n: 1 },
      notify: null,
    });
  });

  it('refuses an invalid event with 422 and field errors', async () => {
    const h = herald();
    const cases: Array<[unknown, string]> = [
      [{}, 'type'],
      [{ type: '' }, 'type'],
      [{ type: 'has space' }, 'type'],
      [{ type: 'herald.started' }, 'type'],
      [{ type: 'delivery.exhausted' }, 'type'],
      [{ type: 'ok.type', occurred_at: 'yesterday' }, 'occurred_at'],
      [{ type: 'ok.type', data: [1, 2] }, 'data'],
      [{ type: 'ok.type', data: 'text' }, 'data'],
      [{ type: 'ok.type', unknown_field: 1 }, ''],
      [{ type: 'ok.type', notify: { email: ['not-an-address'] } }, 'notify.email.0'],
      [[{ type: 'ok.type' }], ''],
      ['"just a string"', ''],
    ];
    for (const [body, path] of cases) {
      const p = expectProblem(await postEvent(h, body), 422, 'validation');
      expect(p.errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
      if (path) expect(p.errors!.map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
  });

  it('refuses deeply nested data (depth 100), a lone surrogate and 1e400 with 422, never 500', async () => {
    const h = herald();
    const deep = `{"type":"ingest.hostile","data":{"d":${'['.repeat(100)}${']'.repeat(100)}}}`;
    const surrogate = '{"type":"ingest.hostile","data":{"s":"\\ud800"}}';
    const surrogateKey = '{"type":"ingest.hostile","data":{"\\udc00":1}}';
    const huge = '{"type":"ingest.hostile","data":{"n":1e400}}';
    const hugeTop = '{"type":"ingest.hostile","data":{"n":[-1e400]}}';
    for (const raw of [deep, surrogate, surrogateKey, huge, hugeTop]) {
      const p = expectProblem(await postEvent(h, raw), 422, 'validation');
      expect(p.errors?.[0]?.path).toBe('data');
    }
    expect(await countEvents('ingest.hostile')).toBe(0);
    // the same shapes, sane, are fine
    expect((await postEvent(h, '{"type":"ingest.hostile","data":{"s":"\\ud83c\\udf89","n":1e300}}')).status).toBe(202);
  });

  it('keeps a data key named __proto__ as data (not as a prototype), in the API and in the ledger', async () => {
    const h = herald();
    const raw = '{"type":"ingest.proto","data":{"__proto__":{"polluted":true},"ok":1}}';
    const r = await postEvent(h, raw);
    expect(r.status).toBe(202);
    const id = ingestAnswerSchema.parse(r.body).id;
    const got = await h.request<{ data: Record<string, unknown> }>('GET', `/v1/events/${id}`);
    expect(Object.keys(got.body.data).sort()).toEqual(['__proto__', 'ok']);
    expect(JSON.stringify(got.body.data)).toBe('{"__proto__":{"polluted":true},"ok":1}');
    const ledger = await h.request<string>('GET', '/v1/ledger', { headers: { accept: 'application/x-ndjson' } });
    const line = ledger.body.split('\n').find((l) => l.includes(id) && l.includes('event.received'))!;
    expect(line).toContain('"data":{"__proto__":{"polluted":true},"ok":1}');
  });

  it('malformed JSON is a 400, an empty body a 422, a non-JSON content type a 415', async () => {
    const h = herald();
    for (const raw of ['{"type":', '{type: "x"}', "{'type':'x'}", '{"type":"x"} trailing']) {
      expectProblem(await postEvent(h, raw), 400, 'bad-request');
    }
    expectProblem(await h.request('POST', '/v1/events', { headers: { 'idempotency-key': uniqueKey(), 'content-type': 'application/json' } }), 422);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const r = await postEvent(h, { type: 'ingest.mediatype' }, { headers: { 'content-type': type } });
      expectProblem(r, 415, 'unsupported-media-type');
    }
    // a JSON type with a charset or a +json suffix is JSON
    expect((await postEvent(h, { type: 'ingest.mediatype' }, { headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(202);
    expect((await postEvent(h, { type: 'ingest.mediatype' }, { headers: { 'content-type': 'application/cloudevents+json' } })).status).toBe(202);
    expect(await countEvents('ingest.mediatype')).toBe(2);
  });
});

describe('Idempotency-Key', () => {
  it('a missing or blank key is a 400, and nothing is recorded', async () => {
    const h = herald();
    const body = JSON.stringify({ type: 'idem.missing' });
    expectProblem(await h.request('POST', '/v1/events', { body }), 400, 'idempotency-key-missing');
    expectProblem(await h.request('POST', '/v1/events', { body, headers: { 'idempotency-key': '  ' } }), 400, 'idempotency-key-missing');
    expect(await countEvents('idem.missing')).toBe(0);
  });

  it('a key longer than 255 characters is a 400; 255 is fine', async () => {
    const h = herald();
    expectProblem(await postEvent(h, { type: 'idem.long' }, { idempotencyKey: 'k'.repeat(256) }), 400, 'idempotency-key-invalid');
    expectProblem(await postEvent(h, { type: 'idem.long' }, { idempotencyKey: `"${'k'.repeat(256)}"` }), 400, 'idempotency-key-invalid');
    expectProblem(await postEvent(h, { type: 'idem.long' }, { idempotencyKey: '"unterminated' }), 400, 'idempotency-key-invalid');
    expect((await postEvent(h, { type: 'idem.long' }, { idempotencyKey: 'k'.repeat(255) })).status).toBe(202);
    expect(await countEvents('idem.long')).toBe(1);
  });

  it('the same key with the same body answers the original status and body, with Idempotent-Replayed: true', async () => {
    const h = herald();
    const key = uniqueKey();
    const first = await postEvent(h, { type: 'idem.replay', data: { a: 1, b: [1, 2] } }, { idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // key order and whitespace do not make a different body
    for (const again of [{ data: { b: [1, 2], a: 1 }, type: 'idem.replay' }, '{ "type" : "idem.replay", "data": {"a":1,"b":[1,2]} }']) {
      const r = await postEvent(h, again, { idempotencyKey: key });
      expect(r.status).toBe(202);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.body).toEqual(first.body);
    }
    expect(await countEvents('idem.replay')).toBe(1);
  });

  it('a quoted key "abc" is the same key as bare abc', async () => {
    const h = herald();
    const bare = uniqueKey('sf');
    const first = await postEvent(h, { type: 'idem.quoted' }, { idempotencyKey: bare });
    const quoted = await postEvent(h, { type: 'idem.quoted' }, { idempotencyKey: `"${bare}"` });
    expect(quoted.status).toBe(202);
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    expect(quoted.body).toEqual(first.body);
    // and the other way round, with an escape inside
    const withQuote = `q"${uniqueKey()}`;
    const a = await postEvent(h, { type: 'idem.quoted' }, { idempotencyKey: `"${withQuote.replace('"', '\\"')}"` });
    const b = await postEvent(h, { type: 'idem.quoted' }, { idempotencyKey: withQuote });
    expect(a.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    expect(await countEvents('idem.quoted')).toBe(2);
  });

  it('the same key with a different body is a 422, and the original stays', async () => {
    const h = herald();
    const key = uniqueKey();
    const first = await postEvent(h, { type: 'idem.reused', data: { v: 1 } }, { idempotencyKey: key });
    expect(first.status).toBe(202);
    expectProblem(await postEvent(h, { type: 'idem.reused', data: { v: 2 } }, { idempotencyKey: key }), 422, 'idempotency-key-reused');
    expectProblem(await postEvent(h, { type: 'idem.reused-other' }, { idempotencyKey: key }), 422, 'idempotency-key-reused');
    const again = await postEvent(h, { type: 'idem.reused', data: { v: 1 } }, { idempotencyKey: key });
    expect(again.body).toEqual(first.body);
    expect(await countEvents('idem.reused')).toBe(1);
    expect(await countEvents('idem.reused-other')).toBe(0);
  });

  it('the same key while the first request is in flight is a 409; exactly one event is recorded', async () => {
    const h = herald();
    const key = uniqueKey('race');
    const body = { type: 'idem.race', data: { n: 1 } };
    // open the connections first, so the twelve requests reach herald together
    await Promise.all(Array.from({ length: 12 }, () => h.request('GET', '/healthz', { key: null })));
    const answers = await Promise.all(Array.from({ length: 12 }, () => postEvent(h, body, { idempotencyKey: key })));
    const originals = answers.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === null);
    const replays = answers.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === 'true');
    const conflicts = answers.filter((r) => r.status === 409);
    expect(originals).toHaveLength(1);
    expect(conflicts.length).toBeGreaterThanOrEqual(1);
    expect(originals.length + replays.length + conflicts.length).toBe(answers.length);
    for (const c of conflicts) expectProblem(c, 409, 'idempotency-key-in-use');
    for (const r of replays) expect(r.body).toEqual(originals[0]!.body);
    expect(await countEvents('idem.race')).toBe(1);
    // after the first one finished, the key replays
    const later = await postEvent(h, body, { idempotencyKey: key });
    expect(later.headers.get('idempotent-replayed')).toBe('true');
    expect(later.body).toEqual(originals[0]!.body);
  });

  it('a key already recorded replays even while retries of it are in flight together (no 409)', async () => {
    const h = herald();
    const key = uniqueKey('recorded-race');
    const body = { type: 'idem.recorded-race', data: { n: 1 } };
    const first = await postEvent(h, body, { idempotencyKey: key });
    expect(first.status).toBe(202);
    await Promise.all(Array.from({ length: 8 }, () => h.request('GET', '/healthz', { key: null })));
    const answers = await Promise.all(Array.from({ length: 8 }, () => postEvent(h, body, { idempotencyKey: key })));
    for (const r of answers) {
      expect(r.status).toBe(202);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.body).toEqual(first.body);
    }
    expect(await countEvents('idem.recorded-race')).toBe(1);
  });

  it('keys are scoped per API key: two ingest keys with the same idempotency key make two events', async () => {
    const h = herald();
    const [a, b] = [await h.createKey('ingest', 'scope-a'), await h.createKey('ingest', 'scope-b')];
    const key = uniqueKey('shared');
    const ra = await postEvent(h, { type: 'idem.scoped' }, { key: a, idempotencyKey: key });
    const rb = await postEvent(h, { type: 'idem.scoped' }, { key: b, idempotencyKey: key });
    expect(ra.status).toBe(202);
    expect(rb.status).toBe(202);
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect(ingestAnswerSchema.parse(ra.body).id).not.toBe(ingestAnswerSchema.parse(rb.body).id);
    // within each scope it still replays, even with a different body in the other scope
    const rb2 = await postEvent(h, { type: 'idem.scoped' }, { key: b, idempotencyKey: key });
    expect(rb2.headers.get('idempotent-replayed')).toBe('true');
    expect(rb2.body).toEqual(rb.body);
    expect(await countEvents('idem.scoped')).toBe(2);
  });
});

describe('Idempotency-Key across a restart', () => {
  const failures = trackFailures();

  it('a replay after herald restarts on the same file is still deduplicated', async () => {
    let h = await startTestHerald();
    try {
      const ingestKey = await h.createKey('ingest', 'restart');
      const key = uniqueKey('restart');
      const body = { type: 'idem.restart', data: { run: 7 } };
      const first = await postEvent(h, body, { key: ingestKey, idempotencyKey: key });
      expect(first.status).toBe(202);

      h = await h.restart();
      const again = await postEvent(h, body, { key: ingestKey, idempotencyKey: `"${key}"` });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      expectProblem(await postEvent(h, { ...body, data: { run: 8 } }, { key: ingestKey, idempotencyKey: key }), 422, 'idempotency-key-reused');

      const list = await h.request<{ data: unknown[] }>('GET', '/v1/events?type=idem.restart');
      expect(list.body.data.map((e) => eventSchema.parse(e).id)).toEqual([ingestAnswerSchema.parse(first.body).id]);
    } finally {
      await finish(h, failures.failed);
    }
  });
});

describe('413', () => {
  const failures = trackFailures();

  it('a body over HERALD_MAX_BODY_BYTES is refused with 413 and not recorded', async () => {
    const h = await startTestHerald({ HERALD_MAX_BODY_BYTES: 2048 });
    try {
      const big = { type: 'size.big', data: { pad: 'x'.repeat(4096) } };
      expectProblem(await postEvent(h, big), 413, 'payload-too-large');
      expect((await postEvent(h, { type: 'size.small', data: { pad: 'x'.repeat(1500) } })).status).toBe(202);
      const r = await h.request<{ data: unknown[] }>('GET', '/v1/events?type=size.big');
      expect(r.body.data).toEqual([]);
    } finally {
      await finish(h, failures.failed);
    }
  });
});

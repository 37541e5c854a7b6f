// The writer thread (store/threaded-writer.ts): ingest is recorded on a second thread with its own
// SQLite connection, while endpoint changes, keys and attempts are written by the main thread. The
// two must see each other's changes at once and keep one hash chain. And with
// HERALD_WRITER_THREAD=false, everything runs on one thread with the same answers.
import { describe, expect, it } from 'vitest';
import { createEndpoint, expectProblem, ingest, postEvent, uniqueKey } from '../support/api.js';
import { useHerald } from '../support/herald.js';

describe('with the writer thread (the default)', () => {
  const herald = useHerald();

  it('matches an event against endpoint changes the main thread committed a moment before', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: 'http://127.0.0.1:9/never', events: ['wt.a.*'], enabled: false });
    expect((await ingest(h, { type: 'wt.a.1' })).deliveries).toHaveLength(0); // disabled: not active
    expect((await h.request('POST', `/v1/endpoints/${ep.id}/enable`, { body: {} })).status).toBe(200);
    const first = await ingest(h, { type: 'wt.a.2' });
    expect(first.deliveries.map((d) => d.endpoint_id)).toEqual([ep.id]);

    expect((await h.request('PATCH', `/v1/endpoints/${ep.id}`, { body: { events: ['wt.b.*'] } })).status).toBe(200);
    expect((await ingest(h, { type: 'wt.a.3' })).deliveries).toHaveLength(0);
    expect((await ingest(h, { type: 'wt.b.1' })).deliveries.map((d) => d.endpoint_id)).toEqual([ep.id]);

    expect((await h.request('DELETE', `/v1/endpoints/${ep.id}`)).status).toBe(200);
    expect((await ingest(h, { type: 'wt.b.2' })).deliveries).toHaveLength(0);
  });

  it('keeps one verifiable chain while both threads write at the same time', async () => {
    const h = herald();
    const before = await h.request<{ entries: number }>('GET', '/v1/ledger/verify');
    const writes: Array<Promise<{ status: number }>> = [];
    for (let i = 0; i < 300; i++) {
      writes.push(postEvent(h, { type: 'wt.mixed', data: { i } }));
      if (i % 10 === 0) {
        writes.push(h.request('POST', '/v1/keys', { body: { name: `k${i}`, role: 'read' } }));
        writes.push(h.request('POST', '/v1/endpoints', { body: { channel: 'webhook', url: 'http://127.0.0.1:9/x', events: ['wt.none'] } }));
      }
    }
    const statuses = (await Promise.all(writes)).map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(300);
    expect(statuses.filter((s) => s === 201)).toHaveLength(60);
    const after = await h.request<{ ok: boolean; entries: number }>('GET', '/v1/ledger/verify');
    expect(after.body.ok).toBe(true);
    expect(after.body.entries - before.body.entries).toBe(360);
  });

  it('answers replays and key reuse from the thread like a single thread would', async () => {
    const h = herald();
    const key = uniqueKey();
    const a = await postEvent(h, { type: 'wt.replay', data: { n: 1 } }, { idempotencyKey: key });
    const b = await postEvent(h, { type: 'wt.replay', data: { n: 1 } }, { idempotencyKey: key });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    expectProblem(await postEvent(h, { type: 'wt.replay', data: { n: 2 } }, { idempotencyKey: key }), 422, 'idempotency-key-reused');
  });
});

describe('with HERALD_WRITER_THREAD=false', () => {
  const herald = useHerald({ HERALD_WRITER_THREAD: 'false' });

  it('records, replays, refuses key reuse and runs batches on the one thread', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: 'http://127.0.0.1:9/never', events: ['st.*'], enabled: false });
    await h.request('POST', `/v1/endpoints/${ep.id}/enable`, { body: {} });
    const key = uniqueKey();
    const a = await postEvent(h, { type: 'st.one' }, { idempotencyKey: key });
    expect(a.status).toBe(202);
    expect((a.body as { deliveries: Array<{ endpoint_id: string }> }).deliveries.map((d) => d.endpoint_id)).toEqual([ep.id]);
    const b = await postEvent(h, { type: 'st.one' }, { idempotencyKey: key });
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(await postEvent(h, { type: 'st.two' }, { idempotencyKey: key }), 422, 'idempotency-key-reused');

    const batch = await h.request<{ results: Array<{ status: number; replayed?: boolean }> }>('POST', '/v1/events/batch', {
      body: { events: [{ idempotency_key: key, type: 'st.one' }, { idempotency_key: 'st-new', type: 'st.three' }, { idempotency_key: 'st-new', type: 'st.other' }] },
    });
    expect(batch.body.results.map((r) => [r.status, r.replayed ?? false])).toEqual([
      [202, true],
      [202, false],
      [422, false],
    ]);
    const verify = await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify');
    expect(verify.body.ok).toBe(true);
  });
});

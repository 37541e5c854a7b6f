// Fan-out to thousands of endpoints: an event (single or in a batch) matching 2,000 endpoints is recorded
// with all its deliveries, and herald starts although herald.started matches them all (SQLite refuses a
// statement with more than 32,766 bound values: one insert per event stopped at 1,725 endpoints).
import { describe, expect, it } from 'vitest';
import { createEndpoint } from '../support/deliveries.js';
import { useHerald } from '../support/herald.js';
import { startReceiver, waitFor } from '../support/receiver.js';

const ENDPOINTS = 2000;

describe('fan-out to 2,000 endpoints', () => {
  const herald = useHerald();

  it('records and delivers every delivery of a single event, of a batch, and of herald.started on restart', { timeout: 120_000 }, async () => {
    let h = herald();
    const first = h;
    const rx = await startReceiver({ status: 200 });
    try {
      for (let i = 0; i < ENDPOINTS; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => createEndpoint(h, { channel: 'webhook', url: `${rx.url}/e${i + j}`, events: ['fan.*', 'herald.started'] })));
      }
      const single = await h.request<{ deliveries: unknown[] }>('POST', '/v1/events', { body: { type: 'fan.one' }, headers: { 'idempotency-key': 'fan-1' } });
      expect(single.status).toBe(202);
      expect(single.body.deliveries).toHaveLength(ENDPOINTS);
      const batch = await h.request<{ results: Array<{ status: number; event: { deliveries: unknown[] } }> }>('POST', '/v1/events/batch', {
        body: { events: [{ idempotency_key: 'fan-2', type: 'fan.two' }, { idempotency_key: 'fan-3', type: 'fan.three' }] },
      });
      expect(batch.body.results.map((r) => [r.status, r.event.deliveries.length])).toEqual([[202, ENDPOINTS], [202, ENDPOINTS]]);
      await waitFor('the three events delivered everywhere', () => rx.received.filter((r) => JSON.parse(r.body).type?.startsWith('fan.')).length === 3 * ENDPOINTS, 60_000);

      h = await h.restart();
      const started = await h.request<{ data: Array<{ id: string }> }>('GET', '/v1/events?type=herald.started&limit=1');
      const last = await h.request<{ deliveries: unknown[] }>('GET', `/v1/events/${started.body.data[0]!.id}`);
      expect(last.body.deliveries).toHaveLength(ENDPOINTS);
      expect((await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify')).body.ok).toBe(true);
    } finally {
      if (h !== first) await h.stop();
      await rx.close();
    }
  });
});

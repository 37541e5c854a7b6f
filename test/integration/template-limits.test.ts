// A template that loops as far as an event's data says: its attempts fail with the render limit
// named, nothing is sent, and the API goes on answering while they render (renders take turns with
// the event loop, each cut off at HERALD_RENDER_LIMIT_MS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchAnswerSchema } from '../../src/http/schemas.js';
import { createEndpoint, getDelivery, postEvent, waitForDelivery } from '../support/deliveries.js';
import { type TestHerald, finish, startTestHerald, trackFailures } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';

let rx: Receiver;
let h: TestHerald | undefined;
const failures = trackFailures();
beforeAll(async () => {
  rx = await startReceiver();
  h = await startTestHerald();
});
afterAll(async () => {
  await finish(h, failures.failed);
  await rx.close();
});

describe('a template that loops as far as the data says', () => {
  it("fails each attempt with the render limit named, sends nothing, and the API keeps answering", { timeout: 60_000 }, async () => {
    const herald = h!;
    // with the sample event of validation (no data.n) the loops are empty: the endpoint is accepted
    const ep = await createEndpoint(herald, {
      channel: 'webhook',
      url: `${rx.url}/loop`,
      events: ['loop.*'],
      retry: { schedule_s: [] },
      template: { body: '{"n": {% for i in (1..data.n) %}{% for j in (1..data.n) %}{% endfor %}{% endfor %}1}' },
    });
    const ingest = await herald.createKey('ingest');
    const small = await postEvent(herald, { type: 'loop.small', data: { n: 3 } }, ingest);
    expect((await waitForDelivery(herald, small.deliveries[0]!.id, (d) => d.status === 'succeeded')).endpoint_id).toBe(ep.id);

    let stop = false;
    let slowest = 0;
    const probing = (async () => {
      while (!stop) {
        const started = performance.now();
        expect((await herald.request('GET', '/healthz')).status).toBe(200);
        slowest = Math.max(slowest, performance.now() - started);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // one batch: its deliveries are leased together and their attempts start together
    const events = Array.from({ length: 40 }, (_, i) => ({ idempotency_key: `loop-${i}`, type: 'loop.big', data: { n: 100_000 } }));
    const r = await herald.request('POST', '/v1/events/batch', { body: { events }, key: ingest });
    expect(r.status).toBe(200);
    const ids = batchAnswerSchema.parse(r.body).results.map((x) => x.event!.deliveries[0]!.id);
    await waitFor('every looping delivery to go dead', async () => {
      const r = await herald.request<{ data: unknown[] }>('GET', `/v1/deliveries?endpoint_id=${ep.id}&status=dead&limit=100`);
      return r.body.data.length === ids.length;
    }, 30_000, 100);
    const dead = await Promise.all(ids.map((id) => getDelivery(herald, id)));
    stop = true;
    await probing;

    for (const d of dead) {
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]!.error).toMatch(/^template\.body: render limit exceeded: rendering took longer than 20 ms, twice \(HERALD_RENDER_LIMIT_MS\)/);
    }
    expect(rx.received.map((r) => r.path)).toEqual(['/loop']); // only the small one
    // 40 renders of 2 × 20 ms, one per turn of the event loop: no request waited for more than a few of
    // them (once, 16 attempts rendered back to back for 250 ms each: 4 s)
    expect(slowest).toBeLessThan(2000);
    expect((await getDelivery(herald, small.deliveries[0]!.id)).attempts[0]!.outcome).toBe('succeeded');
  });
});

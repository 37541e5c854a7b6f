// Operator actions and protections of the delivery engine: redelivery and recovery (who, why, which
// trigger), the SSRF guard, the per-endpoint limit, leases and records the store refuses, the circuit
// breaker and graceful shutdown.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpoint, getDelivery, ledgerEntries, postEvent, waitForDelivery } from '../support/deliveries.js';
import { finish, startTestHerald, trackFailures, useHerald } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';

describe('redelivery and recovery', () => {
  const herald = useHerald();
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
  });

  it('redelivers with a fresh signature, recording the operator and the reason; 409 while in flight', async () => {
    const h = herald();
    const operator = await h.createKey('operate', 'oncall-bob');
    rx.reply((r) => (r.path === '/re' ? { status: 500 } : { status: 200 }));
    await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/re`, events: ['re.*'], retry: { schedule_s: [] } });
    const ev = await postEvent(h, { type: 're.do' });
    const id = ev.deliveries[0]!.id;
    await waitForDelivery(h, id, (d) => d.status === 'dead');

    // the receiver holds the redelivery open, so a second redelivery finds it in flight
    rx.reply((r) => (r.path === '/re' ? { status: 200, delayMs: 700 } : { status: 200 }));
    await new Promise((r) => setTimeout(r, 1100)); // webhook-timestamp has 1 s resolution: make the fresh signature visibly fresh
    const r1 = await h.request<{ status: string }>('POST', `/v1/deliveries/${id}/redeliver`, { key: operator, body: { reason: 'receiver fixed' } });
    expect(r1.status).toBe(202);
    await waitForDelivery(h, id, (d) => d.status === 'delivering');
    const r2 = await h.request('POST', `/v1/deliveries/${id}/redeliver`, { key: operator, body: {} });
    expect(r2.status).toBe(409);
    expect(r2.headers.get('content-type')).toMatch(/problem\+json/);

    const d = await waitForDelivery(h, id, (x) => x.status === 'succeeded');
    expect(d.attempts.map((a) => [a.trigger, a.actor, a.outcome])).toEqual([
      ['initial', h.config.HERALD_ADMIN_KEY ? 'admin (HERALD_ADMIN_KEY)' : '', 'http_error'],
      ['redelivery', 'oncall-bob', 'succeeded'],
    ]);
    const hits = rx.received.filter((r) => r.headers['webhook-id'] === id);
    expect(hits).toHaveLength(2);
    expect(hits[1]!.headers['webhook-timestamp']).not.toBe(hits[0]!.headers['webhook-timestamp']);
    expect(hits[1]!.headers['webhook-signature']).not.toBe(hits[0]!.headers['webhook-signature']);
    const requeued = (await ledgerEntries(h)).find((e) => e.kind === 'deliveries.requeued' && e.stream === id)!;
    expect(requeued.actor).toBe('oncall-bob');
    expect(requeued.body).toMatchObject({ trigger: 'redelivery', reason: 'receiver fixed', delivery_ids: [id] });

    // roles: a read key may not redeliver
    const reader = await h.createKey('read');
    expect((await h.request('POST', `/v1/deliveries/${id}/redeliver`, { key: reader })).status).toBe(403);
    expect((await h.request('POST', '/v1/deliveries/msg_nope/redeliver', { key: operator })).status).toBe(404);
  });

  it('recovers every failed or dead delivery since T, once, recorded as recovery by the operator', async () => {
    const h = herald();
    const operator = await h.createKey('operate', 'oncall-carol');
    rx.reply((r) => (r.path === '/rec' ? { status: 503 } : { status: 200 }));
    const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/rec`, events: ['rec.*'], retry: { schedule_s: [] } });
    const since = new Date(Date.now() - 1000).toISOString();
    const evs = [];
    for (let i = 0; i < 5; i++) evs.push(await postEvent(h, { type: 'rec.item', data: { i } }));
    const ids = evs.map((e) => e.deliveries[0]!.id);
    for (const id of ids) await waitForDelivery(h, id, (d) => d.status === 'dead');

    rx.reply({ status: 200 });
    const r = await h.request<{ requeued: number; complete: boolean }>('POST', `/v1/endpoints/${ep.id}/recover`, { key: operator, body: { since } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ requeued: 5, complete: true });
    for (const id of ids) {
      const d = await waitForDelivery(h, id, (x) => x.status === 'succeeded');
      expect(d.attempts.at(-1)).toMatchObject({ trigger: 'recovery', actor: 'oncall-carol', outcome: 'succeeded' });
    }
    // idempotent: nothing is failed any more, so a repeat queues nothing
    const again = await h.request<{ requeued: number }>('POST', `/v1/endpoints/${ep.id}/recover`, { key: operator, body: { since } });
    expect(again.body.requeued).toBe(0);
    // bounded and validated
    expect((await h.request('POST', `/v1/endpoints/${ep.id}/recover`, { key: operator, body: { since: '2000-01-01T00:00:00Z' } })).status).toBe(422);
    expect((await h.request('POST', `/v1/endpoints/${ep.id}/recover`, { key: operator, body: {} })).status).toBe(422);
  });
});

describe('recovery of a large set', () => {
  // 520 dead deliveries in a row would trip the circuit breaker at its next check; not under test here.
  const herald = useHerald({ HERALD_BREAKER_CONSECUTIVE_DEAD: '1000000' });

  it('queues the first 500 before answering and the rest in the background', async () => {
    const h = herald();
    const rx = await startReceiver((r) => (r.path === '/many' ? { status: 500 } : { status: 200 }));
    try {
      const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/many`, events: ['many.*'], retry: { schedule_s: [] } });
      const since = new Date(Date.now() - 1000).toISOString();
      const events = Array.from({ length: 520 }, (_, i) => ({ idempotency_key: `many-${i}`, type: 'many.item', data: { i } }));
      expect((await h.request('POST', '/v1/events/batch', { body: { events } })).status).toBe(200);
      const count = async (status: string) => {
        let n = 0;
        let cursor: string | null = null;
        do {
          const page: { body: { data: unknown[]; next_cursor: string | null } } = await h.request('GET', `/v1/deliveries?endpoint_id=${ep.id}&status=${status}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
          n += page.body.data.length;
          cursor = page.body.next_cursor;
        } while (cursor);
        return n;
      };
      await waitFor('520 dead deliveries', async () => (await count('dead')) === 520, 30_000, 200);
      rx.reply({ status: 200 });
      const r = await h.request<{ requeued: number; complete: boolean }>('POST', `/v1/endpoints/${ep.id}/recover`, { body: { since } });
      expect(r.body).toMatchObject({ requeued: 500, complete: false });
      await waitFor('all 520 recovered', async () => (await count('succeeded')) === 520, 30_000, 200);
      const requeues = (await ledgerEntries(h)).filter((e) => e.kind === 'deliveries.requeued' && e.stream === ep.id);
      expect(requeues.map((e) => (e.body.delivery_ids as string[]).length)).toEqual([500, 20]);
    } finally {
      await rx.close();
    }
  }, 90_000);
});

describe('SSRF guard (private networks not allowed)', () => {
  const herald = useHerald({ HERALD_ALLOW_PRIVATE_NETWORKS: 'false' });

  it('refuses loopback, private, link-local, CGNAT and numeric forms, and no packet reaches the receiver', async () => {
    const h = herald();
    const rx = await startReceiver();
    try {
      const p = rx.port;
      const urls = [
        `http://127.0.0.1:${p}/a`,
        `http://localhost:${p}/a`,
        `http://2130706433:${p}/a`,
        `http://127.1:${p}/a`,
        `http://0x7f.0.0.1:${p}/a`,
        `http://[::1]:${p}/a`,
        `http://[::ffff:127.0.0.1]:${p}/a`,
        `http://0.0.0.0:${p}/a`,
        'http://169.254.169.254/latest/meta-data',
        'http://10.0.0.1/a',
        'http://192.168.1.1/a',
        'http://172.16.0.1/a',
        'http://100.64.0.1/a',
        'http://[fd00::1]/a',
        'http://224.0.0.1/a',
      ];
      for (const [i, url] of urls.entries()) await createEndpoint(h, { channel: 'webhook', url, events: [`ssrf.${i}`] });
      const deliveries = [];
      for (let i = 0; i < urls.length; i++) deliveries.push((await postEvent(h, { type: `ssrf.${i}` })).deliveries[0]!.id);
      for (const id of deliveries) {
        const d = await waitForDelivery(h, id, (x) => x.status === 'dead');
        expect(d.attempts).toHaveLength(1); // permanent: no retries
        expect(d.attempts[0]!.outcome).toBe('network_error');
        expect(d.attempts[0]!.error).toMatch(/not a public address/);
      }
      expect(rx.connections).toBe(0);
      expect(rx.received).toHaveLength(0);
    } finally {
      await rx.close();
    }
  });
});

describe('per-endpoint limit', () => {
  const herald = useHerald({ HERALD_MAX_PER_ENDPOINT: 2, HERALD_MAX_CONCURRENT_DELIVERIES: 8 });

  it('keeps a fast endpoint flowing while a slow one is saturated', async () => {
    const h = herald();
    const rx = await startReceiver((r) => (r.path === '/slow' ? { status: 200, delayMs: 1500 } : { status: 200 }));
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/slow`, events: ['load.*'], timeout_ms: 10_000 });
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/fast`, events: ['load.*'] });
      const started = Date.now();
      for (let i = 0; i < 8; i++) await postEvent(h, { type: 'load.tick', data: { i } });
      await waitFor('the fast endpoint to get all 8', () => rx.received.filter((r) => r.path === '/fast').length === 8, 5000);
      const fastDone = Date.now() - started;
      const slowSoFar = rx.received.filter((r) => r.path === '/slow').length;
      expect(fastDone).toBeLessThan(1500); // before the first slow answer came back
      expect(slowSoFar).toBeLessThanOrEqual(2); // never more than the limit in flight
      await waitFor('the slow endpoint to get all 8', () => rx.received.filter((r) => r.path === '/slow').length === 8, 15_000);
    } finally {
      await rx.close();
    }
  });
});

describe('per-endpoint limit with a backlog', () => {
  const herald = useHerald({ HERALD_MAX_PER_ENDPOINT: 2, HERALD_MAX_CONCURRENT_DELIVERIES: 8 });

  it('starts new work for another endpoint at once, and refills freed slots from the backlog without waiting', async () => {
    const h = herald();
    const rx = await startReceiver((r) => (r.path === '/slow' ? { status: 200, delayMs: 800 } : { status: 200 }));
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/slow`, events: ['slow.*'], timeout_ms: 10_000 });
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/quick`, events: ['quick.*'] });
      const started = Date.now();
      for (let i = 0; i < 6; i++) await postEvent(h, { type: 'slow.job', data: { i } });
      await waitFor('the slow endpoint to be at its limit', () => rx.received.filter((r) => r.path === '/slow').length === 2);
      // the slow endpoint is saturated with 4 more waiting: an event for another endpoint goes out now,
      // not at the next periodic look (1 s)
      const posted = Date.now();
      await postEvent(h, { type: 'quick.job' });
      await waitFor('the quick delivery', () => rx.received.some((r) => r.path === '/quick'), 5000);
      expect(Date.now() - posted).toBeLessThan(600);
      // three rounds of two at 800 ms each: freed slots take the next rows at once (with a 1 s wait
      // per round the third would start after 2.6 s)
      await waitFor('all 6 slow deliveries', () => rx.received.filter((r) => r.path === '/slow').length === 6, 10_000);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await rx.close();
    }
  });
});

describe('circuit breaker (time)', () => {
  it('disables an endpoint whose every attempt has failed for HERALD_BREAKER_FAILING_S', async () => {
    let offsetMs = 0;
    const clock = () => new Date(Date.now() + offsetMs);
    const rx = await startReceiver({ status: 503 });
    const h = await startTestHerald(
      { HERALD_BREAKER_FAILING_S: 5 * 86_400, HERALD_BREAKER_CONSECUTIVE_DEAD: 1000, HERALD_MAINTENANCE_CRON: '* * * * * *' },
      { clock },
    );
    try {
      const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/down`, events: ['outage.*'], retry: { schedule_s: [3600] } });
      const ev = await postEvent(h, { type: 'outage.job' });
      await waitForDelivery(h, ev.deliveries[0]!.id, (d) => d.status === 'failed');
      // a day later: still failing, but not for long enough
      offsetMs = 86_400_000;
      await new Promise((r) => setTimeout(r, 1500));
      expect((await h.request<{ enabled: boolean }>('GET', `/v1/endpoints/${ep.id}`)).body.enabled).toBe(true);
      // five days and an hour later: disabled, with the reason, and endpoint.disabled emitted
      offsetMs = (5 * 86_400 + 3600) * 1000;
      const off = await waitFor('the endpoint to be disabled', async () => {
        const r = await h.request<{ enabled: boolean; disabled_reason: string | null }>('GET', `/v1/endpoints/${ep.id}`);
        return r.body.enabled ? null : r.body;
      }, 5000);
      expect(off.disabled_reason).toMatch(/every attempt has failed since/);
      const emitted = (await ledgerEntries(h)).filter((e) => e.kind === 'event.received' && (e.body.event as { type: string }).type === 'endpoint.disabled');
      expect(emitted).toHaveLength(1);
    } finally {
      await rx.close();
      await finish(h, false);
    }
  });
});

/**
 * The most requests open at once, for a receiver that holds each one `holdMs` after its arrival (less a
 * margin for clock rounding).
 */
function mostOpenAtOnce(rows: ReadonlyArray<{ at: number }>, holdMs: number): number {
  return Math.max(...rows.map((r) => rows.filter((o) => o.at <= r.at && o.at > r.at - holdMs + 50).length));
}

describe('global limit', () => {
  const herald = useHerald({ HERALD_MAX_CONCURRENT_DELIVERIES: 2, HERALD_MAX_PER_ENDPOINT: 2 });

  it('never has more attempts in flight than HERALD_MAX_CONCURRENT_DELIVERIES, across endpoints', async () => {
    const h = herald();
    const holdMs = 400;
    const rx = await startReceiver({ status: 200, delayMs: holdMs });
    try {
      for (let i = 0; i < 4; i++) await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/ep${i}`, events: ['wide.*'] });
      for (let i = 0; i < 2; i++) await postEvent(h, { type: 'wide.job', data: { i } }); // 8 deliveries over 4 endpoints
      await waitFor('all 8 deliveries', () => rx.received.length === 8, 10_000);
      expect(mostOpenAtOnce(rx.received, holdMs)).toBe(2);
    } finally {
      await rx.close();
    }
  });
});

describe('delivery.exhausted', () => {
  const herald = useHerald();

  it('is emitted once for a dead delivery, and a dead delivery of delivery.exhausted emits nothing more', async () => {
    const h = herald();
    const rx = await startReceiver({ status: 500 });
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/jobs`, events: ['doomed.*'], retry: { schedule_s: [] } });
      const watcher = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/watch`, events: ['delivery.exhausted'], retry: { schedule_s: [] } });
      const ev = await postEvent(h, { type: 'doomed.job' });
      await waitForDelivery(h, ev.deliveries[0]!.id, (d) => d.status === 'dead');
      const exhausted = async () => (await ledgerEntries(h)).filter((e) => e.kind === 'event.received' && (e.body.event as { type: string }).type === 'delivery.exhausted');
      const first = await waitFor('delivery.exhausted', async () => ((await exhausted()).length === 1 ? await exhausted() : null));
      const watched = (first[0]!.body.deliveries as Array<{ id: string; endpoint_id: string }>).find((d) => d.endpoint_id === watcher.id)!;
      await waitForDelivery(h, watched.id, (d) => d.status === 'dead');
      await new Promise((r) => setTimeout(r, 300)); // a loop would have emitted by now
      expect(await exhausted()).toHaveLength(1);
      expect(rx.received.filter((r) => r.path === '/watch')).toHaveLength(1);
    } finally {
      await rx.close();
    }
  });
});

describe('circuit breaker', () => {
  const herald = useHerald({ HERALD_BREAKER_CONSECUTIVE_DEAD: 3, HERALD_MAINTENANCE_CRON: '* * * * * *' });

  it('disables an endpoint after N dead deliveries in a row and emits endpoint.disabled', async () => {
    const h = herald();
    const rx = await startReceiver((r) => (r.path === '/broken' ? { status: 500 } : { status: 200 }));
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/watch`, events: ['endpoint.disabled'] });
      const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/broken`, events: ['cb.*'], retry: { schedule_s: [] } });
      for (let i = 0; i < 3; i++) {
        const ev = await postEvent(h, { type: 'cb.fail' });
        await waitForDelivery(h, ev.deliveries[0]!.id, (d) => d.status === 'dead');
      }
      const hit = await waitFor('endpoint.disabled at the watcher', () =>
        rx.received.find((r) => r.path === '/watch' && (JSON.parse(r.body) as { data: { endpoint_id?: string } }).data.endpoint_id === ep.id),
      );
      expect(JSON.parse(hit.body)).toMatchObject({ type: 'endpoint.disabled', data: { endpoint_id: ep.id, reason: '3 deliveries in a row went dead' } });
      const now = (await h.request<{ enabled: boolean; health: { consecutive_dead: number } }>('GET', `/v1/endpoints/${ep.id}`)).body;
      expect(now.enabled).toBe(false);
      // a disabled endpoint gets no new deliveries; re-enabling (an operator action) brings it back
      rx.reply({ status: 200 });
      expect((await postEvent(h, { type: 'cb.later' })).deliveries).toHaveLength(0);
      expect((await h.request('POST', `/v1/endpoints/${ep.id}/enable`, { body: { reason: 'fixed' } })).status).toBe(200);
      const ev = await postEvent(h, { type: 'cb.later' });
      await waitForDelivery(h, ev.deliveries[0]!.id, (d) => d.status === 'succeeded');
      expect((await getDelivery(h, ev.deliveries[0]!.id)).attempts).toHaveLength(1);
    } finally {
      await rx.close();
    }
  });
});

describe('graceful shutdown', () => {
  const failures = trackFailures();

  it('waits for attempts in flight up to the grace period, then records the rest as interrupted and retries them after restart', async () => {
    const rx = await startReceiver({ status: 200, delayMs: 5000 });
    const h = await startTestHerald({ HERALD_SHUTDOWN_GRACE_MS: 200 });
    let h2;
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/hang`, events: ['sd.*'], timeout_ms: 10_000 });
      const ev = await postEvent(h, { type: 'sd.go' });
      const id = ev.deliveries[0]!.id;
      await waitFor('the request to reach the receiver', () => rx.received.length === 1);
      const t0 = Date.now();
      await h.stop();
      expect(Date.now() - t0).toBeLessThan(3000);
      rx.reply({ status: 200 });
      h2 = await h.restart();
      const d = await waitForDelivery(h2, id, (x) => x.status === 'succeeded');
      expect(d.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
      expect(d.attempts[0]!.error).toMatch(/shut down/);
    } finally {
      await rx.close();
      await finish(h2 ?? h, failures.failed);
    }
  });
});

describe('per-endpoint limit', () => {
  const herald = useHerald({ HERALD_MAX_CONCURRENT_DELIVERIES: 10, HERALD_MAX_PER_ENDPOINT: 2 });

  it('a finishing attempt hands its slot to the next row, never past either limit', async () => {
    const h = herald();
    const holdMs = 300;
    const rx = await startReceiver({ status: 200, delayMs: holdMs });
    try {
      for (const name of ['a', 'b']) await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/${name}`, events: ['handover.job'] });
      for (let i = 0; i < 8; i++) await postEvent(h, { type: 'handover.job', data: { i } }); // 8 deliveries per endpoint
      await waitFor('all 16 deliveries', () => rx.received.length === 16, 15_000);
      for (const path of ['/a', '/b']) expect(mostOpenAtOnce(rx.received.filter((r) => r.path === path), holdMs)).toBe(2);
      expect(mostOpenAtOnce(rx.received, holdMs)).toBe(4);
      await waitFor('16 deliveries recorded succeeded, one attempt each', async () => {
        const r = await h.request<{ data: Array<{ status: string; attempt_count: number }> }>('GET', '/v1/deliveries?status=succeeded&limit=100');
        return r.body.data.filter((d) => d.attempt_count === 1).length === 16;
      }, 5000);
      expect((await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify')).body.ok).toBe(true);
    } finally {
      await rx.close();
    }
  });
});

describe('per-endpoint rate limit', () => {
  const herald = useHerald();

  it('spaces attempts to at most rate_limit.per_second after a burst of one second\'s worth; other endpoints are not held back', async () => {
    const h = herald();
    const rx = await startReceiver({ status: 200 });
    try {
      const bad = await h.request('POST', '/v1/endpoints', { body: { channel: 'webhook', url: `${rx.url}/x`, events: ['*'], rate_limit: { per_second: 0 } } });
      expect(bad.status).toBe(422);
      const slow = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/limited`, events: ['rate.*'], rate_limit: { per_second: 4 } });
      expect(slow.rate_limit).toEqual({ per_second: 4 });
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/free`, events: ['rate.*'] });
      const events = Array.from({ length: 12 }, (_, i) => ({ idempotency_key: `rate-${i}`, type: 'rate.tick', data: { i } }));
      expect((await h.request('POST', '/v1/events/batch', { body: { events } })).status).toBe(200);
      await waitFor('24 deliveries', () => rx.received.length === 24, 10_000);
      const limited = rx.received.filter((r) => r.path === '/limited').map((r) => r.at);
      const free = rx.received.filter((r) => r.path === '/free').map((r) => r.at);
      // 4 at once, then one every 250 ms: the 12th about 2 s after the first.
      expect(limited[11]! - limited[0]!).toBeGreaterThanOrEqual(1700);
      for (const t of limited) expect(limited.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(8);
      expect(free[11]! - free[0]!).toBeLessThan(1000);
      expect(new Set(rx.received.map((r) => `${r.path} ${String(r.headers['webhook-id'])}`)).size).toBe(24);
    } finally {
      await rx.close();
    }
  });
});

describe('a lease the store refuses', () => {
  const herald = useHerald({ HERALD_MAX_PER_ENDPOINT: 1 });

  it('is tried again once the fault is gone; the attempts around it are recorded and nothing is sent twice', async () => {
    const h = herald();
    const rx = await startReceiver({ status: 200, delayMs: 300 });
    // SQLite refuses to mark the second event's delivery as leased, until the trigger goes.
    const db = new Database(h.dbPath);
    try {
      db.exec(`CREATE TRIGGER refuse_second_lease BEFORE UPDATE OF status ON deliveries
               WHEN NEW.status = 'delivering' AND (SELECT type FROM events WHERE id = NEW.event_id) = 'lease.second'
               BEGIN SELECT RAISE(ABORT, 'injected: this lease fails'); END`);
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/one`, events: ['lease.*'] });
      const batch = await h.request<{ results: Array<{ status: number; event: { deliveries: Array<{ id: string }> } }> }>('POST', '/v1/events/batch', {
        body: { events: [{ idempotency_key: 'first', type: 'lease.first' }, { idempotency_key: 'second', type: 'lease.second' }] },
      });
      expect(batch.body.results.map((r) => r.status)).toEqual([202, 202]);
      const [first, second] = batch.body.results.map((r) => r.event.deliveries[0]!.id);

      const done = await waitForDelivery(h, first!, (d) => d.status === 'succeeded', 5000);
      expect(done.attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      await new Promise((r) => setTimeout(r, 500)); // while the fault lasts, the second is not leased
      expect(await getDelivery(h, second!)).toMatchObject({ status: 'pending', attempts: [] });

      db.exec('DROP TRIGGER refuse_second_lease');
      const later = await waitForDelivery(h, second!, (d) => d.status === 'succeeded', 5000);
      expect(later.attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      expect(rx.received.map((r) => r.headers['webhook-id'])).toEqual([first, second]);
      expect((await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify')).body.ok).toBe(true);
    } finally {
      db.close();
      await rx.close();
    }
  });
});

describe('a record the store refuses', () => {
  const herald = useHerald({ HERALD_LEASE_MARGIN_MS: 200, HERALD_MAINTENANCE_CRON: '* * * * * *' });

  it('fails alone: the attempts recorded in the same batch are kept; it is reaped as interrupted and retried', async () => {
    const h = herald();
    const rx = await startReceiver({ status: 200, delayMs: 100 });
    const db = new Database(h.dbPath);
    try {
      // SQLite refuses to record the second event's first attempt as succeeded; recording it as interrupted still works.
      db.exec(`CREATE TRIGGER refuse_second_record BEFORE INSERT ON attempts
               WHEN NEW.n = 1 AND NEW.outcome = 'succeeded' AND (SELECT e.type FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = NEW.delivery_id) = 'record.second'
               BEGIN SELECT RAISE(ABORT, 'injected: this record fails'); END`);
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/two`, events: ['record.*'], timeout_ms: 500 });
      // Both deliveries are leased together; their answers usually come back together, so their records share a batch.
      const batch = await h.request<{ results: Array<{ event: { deliveries: Array<{ id: string }> } }> }>('POST', '/v1/events/batch', {
        body: { events: [{ idempotency_key: 'a', type: 'record.first' }, { idempotency_key: 'b', type: 'record.second' }] },
      });
      const [first, second] = batch.body.results.map((r) => r.event.deliveries[0]!.id);
      const ok = await waitForDelivery(h, first!, (d) => d.status === 'succeeded', 5000);
      expect(ok.attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      // Its lease runs out (timeout 500 ms + margin 200 ms): recorded interrupted, then sent again.
      const later = await waitForDelivery(h, second!, (d) => d.status === 'succeeded', 8000);
      expect(later.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
      expect(rx.received.filter((r) => r.headers['webhook-id'] === first)).toHaveLength(1);
      expect(rx.received.filter((r) => r.headers['webhook-id'] === second)).toHaveLength(2);
      expect((await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify')).body.ok).toBe(true);
    } finally {
      db.close();
      await rx.close();
    }
  });
});

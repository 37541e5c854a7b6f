// The auditor's view: GET /v1/events and /v1/deliveries with filters, one event with its deliveries,
// one delivery with its attempts, and cursor pagination that stays consistent while events arrive.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deliverySchema, deliveryWithAttemptsSchema, eventSchema, eventWithDeliveriesSchema } from '../../src/http/schemas.js';
import { type IngestAnswer, allPages, createEndpoint, expectProblem, ingest } from '../support/api.js';
import { useHerald } from '../support/herald.js';

const herald = useHerald();
const HOOK = 'http://127.0.0.1:9/hook';
type EventView = z.output<typeof eventSchema>;
type DeliveryView = z.output<typeof deliverySchema>;

async function listEvents(query: string): Promise<EventView[]> {
  const r = await herald().request<{ data: unknown[]; next_cursor: string | null }>('GET', `/v1/events?limit=500&${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.next_cursor).toBeNull();
  return r.body.data.map((e) => eventSchema.parse(e));
}

async function listDeliveries(query: string): Promise<DeliveryView[]> {
  const r = await herald().request<{ data: unknown[] }>('GET', `/v1/deliveries?limit=500&${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data.map((d) => deliverySchema.parse(d));
}

/** Asserts strictly newest first: ids (time-ordered) strictly decreasing, received_at never increasing. */
function expectNewestFirst(items: Array<{ id: string; received_at?: string; created_at?: string }>) {
  for (let i = 1; i < items.length; i++) {
    expect(items[i - 1]!.id > items[i]!.id, `${items[i - 1]!.id} before ${items[i]!.id}`).toBe(true);
    const t = (x: (typeof items)[number]) => x.received_at ?? x.created_at!;
    expect(t(items[i - 1]!) >= t(items[i]!)).toBe(true);
  }
}

describe('GET /v1/events', () => {
  it('filters by type, subject, user, since and until', async () => {
    const h = herald();
    const posted: IngestAnswer[] = [];
    const specs = [
      { type: 'hist.a', subject: 'job-1', user: 'alice' },
      { type: 'hist.a', subject: 'job-2', user: 'bob' },
      { type: 'hist.b', subject: 'job-1', user: 'bob' },
      { type: 'hist.b', subject: 'job-3', user: 'alice' },
      { type: 'hist.a', subject: 'job-1', user: 'bob' },
    ];
    for (const s of specs) {
      posted.push(await ingest(h, { ...s, data: { i: posted.length } }));
      await new Promise((r) => setTimeout(r, 3)); // distinct received_at values
    }
    const ids = (events: EventView[]) => events.filter((e) => e.type.startsWith('hist.')).map((e) => e.id);
    const expected = (pred: (s: (typeof specs)[number], i: number) => boolean) =>
      posted.filter((_, i) => pred(specs[i]!, i)).map((p) => p.id).reverse();

    expect(ids(await listEvents('type=hist.a'))).toEqual(expected((s) => s.type === 'hist.a'));
    expect(ids(await listEvents('subject=job-1'))).toEqual(expected((s) => s.subject === 'job-1'));
    expect(ids(await listEvents('user=alice'))).toEqual(expected((s) => s.user === 'alice'));
    expect(ids(await listEvents('type=hist.a&subject=job-1&user=bob'))).toEqual([posted[4]!.id]);
    expect(await listEvents('type=hist.none')).toEqual([]);

    const since = posted[2]!.received_at;
    const until = posted[4]!.received_at;
    expect(ids(await listEvents(`since=${encodeURIComponent(since)}`))).toEqual(expected((_, i) => posted[i]!.received_at >= since));
    expect(ids(await listEvents(`until=${encodeURIComponent(until)}`))).toEqual(expected((_, i) => posted[i]!.received_at < until));
    expect(ids(await listEvents(`since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`))).toEqual(
      expected((_, i) => posted[i]!.received_at >= since && posted[i]!.received_at < until),
    );
    expect(ids(await listEvents(`since=${encodeURIComponent(since)}`))).toContain(posted[2]!.id);
    expect(ids(await listEvents(`until=${encodeURIComponent(until)}`))).not.toContain(posted[4]!.id);
    // a time with an offset means the same instant
    const plusTwo = new Date(Date.parse(since)).toISOString().replace('Z', '+00:00');
    expect(ids(await listEvents(`since=${encodeURIComponent(plusTwo)}`))).toEqual(ids(await listEvents(`since=${encodeURIComponent(since)}`)));

    const full = await listEvents('type=hist.b');
    expect(full[0]).toMatchObject({ type: 'hist.b', subject: 'job-3', user: 'alice', data: { i: 3 } });
    expectNewestFirst(full);
  });

  it('GET /v1/events/{id} answers the event with its deliveries; an unknown id is a 404', async () => {
    const h = herald();
    const wh = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['one.event'] });
    const sl = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['one.*'] });
    const answer = await ingest(h, { type: 'one.event', subject: 's', data: { ok: true } });
    const r = await h.request('GET', `/v1/events/${answer.id}`);
    expect(r.status).toBe(200);
    const ev = eventWithDeliveriesSchema.parse(r.body);
    expect(ev).toMatchObject({ id: answer.id, type: 'one.event', subject: 's', data: { ok: true }, received_at: answer.received_at });
    expect(ev.deliveries.map((d) => [d.id, d.endpoint_id, d.channel])).toEqual(answer.deliveries.map((d) => [d.id, d.endpoint_id, d.channel]));
    expect(ev.deliveries.map((d) => d.endpoint_id)).toEqual([wh.id, sl.id]);
    expectProblem(await h.request('GET', '/v1/events/evt_01J00000000000000000000000'), 404, 'not-found');
  });

  it('a bad query or cursor is a 400', async () => {
    const h = herald();
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5', 'since=yesterday', 'until=2026-13-01T00:00:00Z', 'cursor=not-a-cursor', `cursor=${Buffer.from('[1]').toString('base64url')}`, `cursor=${Buffer.from('[-1,0]').toString('base64url')}`]) {
      expectProblem(await h.request('GET', `/v1/events?${q}`), 400, 'bad-request');
    }
    for (const q of ['status=nope', 'channel=sms', 'limit=-1', 'cursor=%7B%7D']) {
      expectProblem(await h.request('GET', `/v1/deliveries?${q}`), 400, 'bad-request');
    }
    expectProblem(await h.request('GET', '/v1/ledger?after=-1'), 400, 'bad-request');
    expectProblem(await h.request('GET', '/v1/ledger?limit=1001'), 400, 'bad-request');
  });
});

describe('GET /v1/deliveries', () => {
  it('filters by endpoint_id, event_id, status and channel', async () => {
    const h = herald();
    const wh = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['dl.*'] });
    const dc = await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['dl.b'] });
    const a = await ingest(h, { type: 'dl.a' });
    const b = await ingest(h, { type: 'dl.b' });

    const byWh = await listDeliveries(`endpoint_id=${wh.id}`);
    expect(byWh.map((d) => d.event_id)).toEqual([b.id, a.id]);
    expect(byWh.every((d) => d.endpoint_id === wh.id && d.channel === 'webhook')).toBe(true);
    expect((await listDeliveries(`endpoint_id=${dc.id}`)).map((d) => d.event_id)).toEqual([b.id]);

    const ofB = await listDeliveries(`event_id=${b.id}`);
    expect(ofB.map((d) => d.endpoint_id)).toEqual([dc.id, wh.id]); // newest first within one event too
    expect(ofB.map((d) => d.id).sort()).toEqual(b.deliveries.map((d) => d.id).sort());

    expect((await listDeliveries(`event_id=${b.id}&channel=discord`)).map((d) => d.endpoint_id)).toEqual([dc.id]);
    expect((await listDeliveries(`event_id=${b.id}&channel=email`))).toEqual([]);
    expect((await listDeliveries('channel=discord')).every((d) => d.channel === 'discord')).toBe(true);

    // nothing listens on 127.0.0.1:9, so nothing succeeds; whatever the status, the filter holds
    expect(await listDeliveries(`endpoint_id=${wh.id}&status=succeeded`)).toEqual([]);
    for (const status of ['pending', 'delivering', 'failed', 'dead', 'cancelled'] as const) {
      const rows = await listDeliveries(`endpoint_id=${wh.id}&status=${status}`);
      expect(rows.every((d) => d.status === status)).toBe(true);
    }
    // Once both first attempts have failed (they wait for a retry seconds away), the filter finds both.
    const deadline = Date.now() + 10_000;
    while ((await listDeliveries(`endpoint_id=${wh.id}`)).some((d) => d.status !== 'failed') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await listDeliveries(`endpoint_id=${wh.id}&status=failed`)).map((d) => d.event_id)).toEqual([b.id, a.id]);
  });

  it('GET /v1/deliveries/{id} answers the delivery with its attempts; an unknown id is a 404', async () => {
    const h = herald();
    const wh = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['single.delivery'] });
    const answer = await ingest(h, { type: 'single.delivery' });
    expect(answer.deliveries).toHaveLength(1);
    const id = answer.deliveries[0]!.id;
    expect(id).toMatch(/^msg_/);
    const r = await h.request('GET', `/v1/deliveries/${id}`);
    expect(r.status).toBe(200);
    const d = deliveryWithAttemptsSchema.parse(r.body);
    expect(d).toMatchObject({ id, event_id: answer.id, endpoint_id: wh.id, channel: 'webhook', recipients: null });
    expect(Array.isArray(d.attempts)).toBe(true);
    expect(d.attempt_count).toBeGreaterThanOrEqual(d.attempts.filter((a) => a.finished_at !== null).length);
    d.attempts.forEach((a, i) => expect(a.n).toBe(i + 1));
    expectProblem(await h.request('GET', '/v1/deliveries/msg_01J00000000000000000000000'), 404, 'not-found');
  });
});

describe('cursor pagination while events arrive', () => {
  it('events: 4 pages, new events inserted between fetches, no duplicates, nothing skipped, newest first', async () => {
    const h = herald();
    const original: IngestAnswer[] = [];
    for (let i = 0; i < 25; i++) original.push(await ingest(h, { type: 'page.events', data: { i } }));
    const inserted: string[] = [];
    const { items, pages } = await allPages<EventView>(h, '/v1/events?type=page.events&limit=7', {
      between: async (page) => {
        for (let j = 0; j < 3; j++) inserted.push((await ingest(h, { type: 'page.events', data: { page, j } })).id);
      },
    });
    expect(pages).toBe(4);
    const ids = items.map((e) => eventSchema.parse(e).id);
    expect(new Set(ids).size).toBe(ids.length);
    // exactly the events present when the first page was read, newest first
    expect(ids).toEqual(original.map((e) => e.id).reverse());
    expectNewestFirst(items);
    expect(inserted).toHaveLength(9);
    // the new ones are there for the next reader
    const fresh = await allPages<EventView>(h, '/v1/events?type=page.events&limit=10');
    expect(fresh.items.map((e) => e.id)).toEqual([...original.map((e) => e.id), ...inserted].sort().reverse());
  });

  it('deliveries: 3+ pages while inserting, no duplicates, nothing skipped, newest first', async () => {
    const h = herald();
    const a = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['page.deliveries'] });
    const b = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['page.*'] });
    const original: string[] = [];
    for (let i = 0; i < 10; i++) original.push(...(await ingest(h, { type: 'page.deliveries', data: { i } })).deliveries.map((d) => d.id));
    expect(original).toHaveLength(20);
    const { items, pages } = await allPages<DeliveryView>(h, `/v1/deliveries?limit=3&endpoint_id=${a.id}`, {
      between: async () => {
        await ingest(h, { type: 'page.deliveries' });
      },
    });
    const toA = original.filter((_, i) => i % 2 === 0); // a's delivery comes first in each event
    expect(pages).toBe(4);
    expect(items.map((d) => d.id)).toEqual([...toA].reverse());
    expect(new Set(items.map((d) => d.endpoint_id))).toEqual(new Set([a.id]));

    const mixed = await allPages<DeliveryView>(h, '/v1/deliveries?limit=3', {
      between: async () => {
        await ingest(h, { type: 'page.deliveries' });
      },
    });
    const mixedIds = mixed.items.map((d) => d.id);
    expect(mixed.pages).toBeGreaterThanOrEqual(3);
    expect(new Set(mixedIds).size).toBe(mixedIds.length);
    for (const id of original) expect(mixedIds).toContain(id);
    // newest first: by event, then by position inside the event (later endpoints first)
    const pos = new Map(original.map((id, i) => [id, i]));
    const ours = mixedIds.filter((id) => pos.has(id)).map((id) => pos.get(id)!);
    expect(ours).toEqual([...ours].sort((x, y) => y - x));
    expect(mixed.items.filter((d) => pos.has(d.id)).map((d) => d.endpoint_id)).toEqual(Array.from({ length: 10 }, () => [b.id, a.id]).flat());
    expectNewestFirst(mixed.items.filter((d) => pos.has(d.id)).map((d) => ({ id: d.event_id, created_at: d.created_at })).filter((_, i) => i % 2 === 0));
  });
});

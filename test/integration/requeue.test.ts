// "Retry all matching": 1,200 dead deliveries across two endpoints, counted exactly with the list's
// filters, requeued by filter as a background job (only the matches, each once, recorded in the ledger
// with the operator's name), resumed after a restart in the middle of a job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deliverySchema, ingestAnswerSchema, requeueJobSchema } from '../../src/http/schemas.js';
import { allPages, createEndpoint, expectProblem } from '../support/api.js';
import { getDelivery, ledgerEntries } from '../support/deliveries.js';
import { type TestHerald, finish, startTestHerald, trackFailures } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';

type Job = z.output<typeof requeueJobSchema>;
type Entry = Awaited<ReturnType<typeof ledgerEntries>>[number];

describe('retry all matching', () => {
  const failures = trackFailures();
  let h: TestHerald;
  let rx: Receiver;
  let operator: string;
  let a: string;
  let b: string;
  let t1: string;
  /** Every delivery made: its endpoint, event type and phase (created before or after t1). */
  const made: Array<{ id: string; ep: string; type: string; phase: 1 | 2 }> = [];
  const idsWhere = (pred: (d: (typeof made)[number]) => boolean) => made.filter(pred).map((d) => d.id).sort();

  const count = async (query: string, key?: string) => {
    const r = await h.request<{ count: number }>('GET', `/v1/deliveries/count${query}`, { key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return z.object({ count: z.number().int() }).strict().parse(r.body).count;
  };
  const listed = async (query: string) => (await allPages<{ id: string }>(h, `/v1/deliveries?limit=500&${query}`)).items.map((d) => d.id);
  const job = async (id: string) => requeueJobSchema.parse((await h.request('GET', `/v1/deliveries/requeue/${id}`)).body);
  const finished = (id: string) => waitFor(`job ${id} finished`, async () => ((await job(id)).state === 'finished' ? job(id) : null), 30_000, 50);
  const chunksOf = (entries: Entry[], jobId: string) => entries.filter((e) => e.kind === 'deliveries.requeued' && (e.body.job as { id: string } | undefined)?.id === jobId);
  const statusCount = async (status: string, query = '') => (await listed(`status=${status}${query}`)).length;

  async function post(type: string, n: number, offset: number) {
    const events = Array.from({ length: n }, (_, i) => ({ idempotency_key: `${type}-${offset + i}`, type, data: { i: offset + i } }));
    const r = await h.request<{ results: Array<{ status: number; event: unknown }> }>('POST', '/v1/events/batch', { body: { events } });
    expect(r.status).toBe(200);
    return r.body.results.map((x) => ingestAnswerSchema.parse(x.event));
  }

  beforeAll(async () => {
    rx = await startReceiver({ status: 500 });
    // Chunks of 100, so a job over hundreds of deliveries spans many units (and a restart lands inside one).
    // 1,200 dead deliveries in a row would trip the circuit breaker; not under test here.
    h = await startTestHerald({ HERALD_REQUEUE_CHUNK: '100', HERALD_BREAKER_CONSECUTIVE_DEAD: '1000000' });
    operator = await h.createKey('operate', 'oncall-dana');
    a = (await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/a`, events: ['bulk.*'], retry: { schedule_s: [] } })).id;
    b = (await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/b`, events: ['bulk.*'], retry: { schedule_s: [] } })).id;
    const keep = (phase: 1 | 2, answers: Awaited<ReturnType<typeof post>>) => {
      for (const ev of answers) for (const d of ev.deliveries) made.push({ id: d.id, ep: d.endpoint_id!, type: ev.type, phase });
    };
    keep(1, [...(await post('bulk.alpha', 200, 0)), ...(await post('bulk.beta', 200, 0))]);
    await new Promise((r) => setTimeout(r, 20));
    t1 = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    keep(2, [...(await post('bulk.alpha', 100, 200)), ...(await post('bulk.beta', 100, 200))]);
    expect(made).toHaveLength(1200);
    await waitFor('1,200 dead deliveries', async () => (await statusCount('dead')) === 1200, 60_000, 250);
  }, 120_000);

  afterAll(async () => {
    await finish(h, failures.failed);
    await rx.close();
  });

  it('filters the list by event type, exact or prefix', async () => {
    const beta = await allPages<z.output<typeof deliverySchema>>(h, `/v1/deliveries?limit=500&type=bulk.beta&endpoint_id=${b}`);
    expect(beta.items.map((d) => d.id).sort()).toEqual(idsWhere((d) => d.ep === b && d.type === 'bulk.beta'));
    expect(beta.items.every((d) => deliverySchema.parse(d).event_type === 'bulk.beta')).toBe(true);
    expect(await listed('type=bulk.*')).toHaveLength(1200);
    expect(await listed('type=bulk')).toEqual([]);
    expectProblem(await h.request('GET', '/v1/deliveries?type=bulk.**'), 400, 'bad-request');
  });

  it('counts exactly what a requeue with the same filters would touch', async () => {
    const cases: Array<[string, number]> = [
      ['', 1200],
      ['?status=dead', 1200],
      ['?status=succeeded', 0],
      [`?endpoint_id=${a}`, 600],
      ['?type=bulk.alpha', 600],
      ['?type=bulk.*', 1200],
      ['?type=bulk', 0],
      [`?since=${t1}`, 400],
      [`?until=${t1}`, 800],
      [`?endpoint_id=${b}&type=bulk.beta&since=${t1}&status=dead`, 100],
      ['?channel=email', 0],
    ];
    for (const [query, n] of cases) {
      expect(await count(query), query).toBe(n);
      // the same filters on the list, restricted to what a requeue touches (only dead ones are settled here)
      const filters = query.slice(1);
      expect((await listed(filters.includes('status=') ? filters : `status=dead&${filters}`)).length, query).toBe(n);
    }
    expect(await count(`?endpoint_id=${b}&type=bulk.beta&since=${t1}`, await h.createKey('read'))).toBe(100);
    // a disabled endpoint's deliveries are not touched, and not counted
    expect((await h.request('POST', `/v1/endpoints/${b}/disable`, { key: operator })).status).toBe(200);
    expect(await count('')).toBe(600);
    expect((await h.request('POST', `/v1/endpoints/${b}/enable`, { key: operator })).status).toBe(200);
    expect(await count('')).toBe(1200);
  });

  it('requeues exactly the matches as a background job, recorded with the operator as actor', async () => {
    rx.reply({ status: 200 });
    const before = rx.received.length;
    const expected = idsWhere((d) => d.ep === a && d.type === 'bulk.alpha');
    const r = await h.request('POST', '/v1/deliveries/requeue', { key: operator, body: { endpoint_id: a, type: 'bulk.alpha', status: 'dead', reason: 'receiver fixed' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const started = requeueJobSchema.parse(r.body);
    expect(started).toMatchObject({ state: 'running', total: 300, requeued: 0, filters: { endpoint_id: a, type: 'bulk.alpha', status: 'dead' }, reason: 'receiver fixed', actor: 'oncall-dana', finished_at: null });
    expect(started.id).toMatch(/^job_/);

    const done = await finished(started.id);
    expect(done).toMatchObject({ state: 'finished', total: 300, requeued: 300 });
    await waitFor('300 redelivered', async () => (await statusCount('succeeded')) === 300, 30_000, 200);
    // the receiver got each match again, once, and nothing else
    const hits = rx.received.slice(before).map((x) => x.headers['webhook-id'] as string);
    expect(hits.sort()).toEqual(expected);
    expect(await statusCount('dead')).toBe(900);
    expect((await getDelivery(h, expected[0]!)).attempts.map((x) => [x.trigger, x.actor, x.outcome])).toEqual([
      ['initial', 'admin (HERALD_ADMIN_KEY)', 'http_error'],
      ['redelivery', 'oncall-dana', 'succeeded'],
    ]);

    const entries = await ledgerEntries(h);
    const start = entries.find((e) => e.kind === 'requeue.started' && e.stream === started.id)!;
    expect(start).toMatchObject({ actor: 'oncall-dana', body: { job_id: started.id, total: 300, reason: 'receiver fixed', filters: { endpoint_id: a, type: 'bulk.alpha', status: 'dead' } } });
    expect(start.body.up_to_seq).toBeLessThan(start.seq); // what existed when it started, and nothing later
    const chunks = chunksOf(entries, started.id);
    expect(chunks.map((c) => (c.body.delivery_ids as string[]).length)).toEqual([100, 100, 100]);
    expect(chunks.every((c) => c.actor === 'oncall-dana' && c.stream === started.id && c.body.trigger === 'redelivery' && c.body.reason === 'receiver fixed')).toBe(true);
    expect(chunks.flatMap((c) => c.body.delivery_ids as string[]).sort()).toEqual(expected);
    expect(entries.find((e) => e.kind === 'requeue.finished' && e.stream === started.id)).toMatchObject({ actor: 'oncall-dana', body: { job_id: started.id, requeued: 300 } });

    const list = await h.request<{ data: Job[] }>('GET', '/v1/deliveries/requeue?limit=10', { key: await h.createKey('read') });
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toEqual(done);
  });

  it('finishes at once when nothing matches', async () => {
    const r = await h.request('POST', '/v1/deliveries/requeue', { key: operator, body: { type: 'nothing.*' } });
    expect(r.status).toBe(202);
    expect(requeueJobSchema.parse(r.body)).toMatchObject({ state: 'finished', total: 0, requeued: 0 });
  });

  it('resumes a job after a restart in the middle, requeueing every match once', async () => {
    const remaining = idsWhere((d) => !(d.ep === a && d.type === 'bulk.alpha'));
    const r = await h.request<Job>('POST', '/v1/deliveries/requeue', { key: operator, body: { status: 'dead' } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ state: 'running', total: 900 });
    h = await h.restart(); // stops the job after its current chunk; the new process resumes it

    expect(await finished(r.body.id)).toMatchObject({ total: 900, requeued: 900 });
    const entries = await ledgerEntries(h);
    const restartedAt = entries.filter((e) => e.kind === 'event.received' && (e.body.event as { type: string }).type === 'herald.started').at(-1)!.seq;
    const chunks = chunksOf(entries, r.body.id);
    expect(chunks.some((c) => c.seq < restartedAt) && chunks.some((c) => c.seq > restartedAt), 'chunks on both sides of the restart').toBe(true);
    const requeued = chunks.flatMap((c) => c.body.delivery_ids as string[]);
    expect(new Set(requeued).size).toBe(requeued.length); // never twice
    expect(requeued.sort()).toEqual(remaining);
    await waitFor('all 1,200 delivered', async () => (await statusCount('succeeded')) === 1200, 60_000, 250);
    for (const id of remaining) expect(rx.received.some((x) => x.headers['webhook-id'] === id)).toBe(true);
  }, 90_000);

  it('needs the operate role to start a job; read may count and watch', async () => {
    const reader = await h.createKey('read');
    const ingester = await h.createKey('ingest');
    expectProblem(await h.request('POST', '/v1/deliveries/requeue', { key: reader, body: { status: 'dead' } }), 403, 'forbidden');
    expectProblem(await h.request('POST', '/v1/deliveries/requeue', { key: ingester, body: { status: 'dead' } }), 403, 'forbidden');
    expectProblem(await h.request('GET', '/v1/deliveries/count', { key: ingester }), 403, 'forbidden');
    expectProblem(await h.request('GET', '/v1/deliveries/requeue', { key: ingester }), 403, 'forbidden');
    expect((await h.request('GET', '/v1/deliveries/count', { key: reader })).status).toBe(200);
    expect((await h.request('GET', '/v1/deliveries/requeue', { key: reader })).status).toBe(200);
    expect(await ledgerEntries(h).then((es) => es.filter((e) => e.kind === 'requeue.started' && e.actor !== 'oncall-dana'))).toEqual([]);
    // and /openapi.json says so
    const doc = (await h.request<{ paths: Record<string, Record<string, { 'x-herald-role'?: string; parameters?: Array<{ name: string }> }>> }>('GET', '/openapi.json', { key: null })).body;
    expect(doc.paths['/v1/deliveries/count']?.get?.['x-herald-role']).toBe('read');
    expect(doc.paths['/v1/deliveries/requeue']?.post?.['x-herald-role']).toBe('operate');
    expect(doc.paths['/v1/deliveries/requeue']?.get?.['x-herald-role']).toBe('read');
    expect(doc.paths['/v1/deliveries/requeue/{id}']?.get?.['x-herald-role']).toBe('read');
    expect(doc.paths['/v1/deliveries']?.get?.parameters?.map((p) => p.name)).toContain('type');
  });

  it('refuses bad filters with a problem, never a 500', async () => {
    const bodies: Array<[unknown, string]> = [
      [{ status: 'pending' }, 'status'],
      [{ status: 'cancelled' }, 'status'],
      [{ type: 'bulk.**' }, 'type'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: t1, until: '2020-01-01T00:00:00Z' }, 'since'],
      [{ endpoint: a }, ''], // a misspelt filter must not widen the requeue to everything
      [{ channel: 'pigeon' }, 'channel'],
      [{ reason: 'x'.repeat(1001) }, 'reason'],
      [[], ''],
    ];
    for (const [body, path] of bodies) {
      const p = expectProblem(await h.request('POST', '/v1/deliveries/requeue', { key: operator, body }), 422, 'validation');
      expect(p.errors?.some((e) => e.path === path), JSON.stringify(p)).toBe(true);
    }
    expectProblem(await h.request('POST', '/v1/deliveries/requeue', { key: operator, body: '{"status":' }), 400, 'bad-request');
    for (const query of ['status=pending', 'endpoint=ep_x', 'since=yesterday', `since=${t1}&until=2020-01-01T00:00:00Z`, 'type=a*', 'limit=5']) {
      expectProblem(await h.request('GET', `/v1/deliveries/count?${query}`), 400, 'bad-request');
    }
    expectProblem(await h.request('GET', '/v1/deliveries/requeue/job_nope'), 404, 'not-found');
    expect((await ledgerEntries(h)).filter((e) => e.kind === 'requeue.started')).toHaveLength(3); // the refused ones wrote nothing
  });
});

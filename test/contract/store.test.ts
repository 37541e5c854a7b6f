// What every store must do, run against each store in STORES: appends and the hash chain, group
// commit with a failing unit, reads and paging, leases and their expiry, idempotency, verify and rebuild.
import { describe, expect, it } from 'vitest';
import type { EntryDraft, LedgerEntry } from '../../src/domain/ledger-entry.js';
import type { Store, StoreHooks, Tx } from '../../src/store/store.js';
import { T0, at, endpointCreated, received, revoke, settled } from './drafts.js';
import { STORES, appendAll, storePerTest } from './stores.js';

describe.each(STORES)('store contract: $name', (factory) => {
  let now = T0;
  const commits: Array<{ entries: LedgerEntry[]; units: number }> = [];
  const stores = storePerTest(factory);
  const open = (hooks: StoreHooks = {}): Promise<Store> => {
    commits.length = 0;
    now = T0;
    return stores.open({ clock: () => now, onCommit: (entries, units) => commits.push({ entries, units }), ...hooks });
  };
  const append = appendAll;

  it('appends entries to one hash chain, in order, and verifies it', async () => {
    const store = await open();
    await append(store, revoke('key_a'), revoke('key_b'));
    await append(store, revoke('key_c'));
    const entries = await store.read.ledger.entriesAfter(0, 10);
    expect(entries.map((e) => [e.seq, e.stream])).toEqual([[1, 'key_a'], [2, 'key_b'], [3, 'key_c']]);
    expect(entries[1]!.prev_hash).toBe(entries[0]!.hash);
    expect(await store.read.ledger.ledgerHead()).toEqual({ seq: 3, hash: entries[2]!.hash });
    expect(await store.verify()).toEqual({ ok: true, entries: 3, head_hash: entries[2]!.hash });
    expect((await store.read.ledger.entriesAfter(1, 1)).map((e) => e.seq)).toEqual([2]);
  });

  it('names the first entry edited behind its back', async () => {
    const store = await open();
    await append(store, revoke('key_a'), revoke('key_b'), revoke('key_c'));
    await stores.current().tamper(2, '{"id":"key_x"}');
    expect(await store.verify()).toEqual({ ok: false, entries: 1, first_broken_seq: 2, reason: 'hash_mismatch' });
  });

  it('group-commits units together; a unit that fails (before or after writing) rolls back alone', async () => {
    const store = await open();
    const results = await Promise.allSettled([
      append(store, revoke('key_a')),
      store.transact(async (tx) => {
        await tx.append(revoke('key_b'));
        throw new Error('b fails after writing');
      }),
      store.transact(() => Promise.reject(new Error('c fails before writing'))),
      append(store, received('evt_1')),
      append(store, received('evt_1')), // refused by the store: the event exists
      append(store, revoke('key_d')),
      store.transact(async (tx) => {
        await tx.append(received('evt_2'));
        throw new Error('e fails after its event was counted');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('b fails after writing');
    expect(commits).toHaveLength(1);
    expect(commits[0]!.units).toBe(7);
    expect(commits[0]!.entries.map((e) => [e.seq, e.stream])).toEqual([[1, 'key_a'], [2, 'evt_1'], [3, 'key_d']]);
    expect(await store.verify()).toMatchObject({ ok: true, entries: 3 });
    // The per-minute counts take in only the units that were kept: one event received, not two.
    const counted = await store.read.activity.between(new Date(0), new Date('2100-01-01T00:00:00Z'));
    expect(counted.filter((a) => a.what === 'received').map((a) => a.n)).toEqual([1]);
    // The writer goes on.
    await append(store, revoke('key_e'));
    expect(await store.verify()).toMatchObject({ ok: true, entries: 4 });
  });

  it("keeps an endpoint's health in entry order, within a transaction, and without the units rolled back", async () => {
    const store = await open();
    await append(store, endpointCreated('ep_h'), ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => received(`h${i}`, { endpoint: 'ep_h' })));
    const attempt = (id: string, status: 'succeeded' | 'failed' | 'dead', s: number) => {
      const d = settled(`msg_${id}`, status);
      return { ...d, body: { ...d.body, started_at: at(s).toISOString() } };
    };
    const enabled: EntryDraft<'endpoint.enabled'> = { kind: 'endpoint.enabled', stream: 'ep_h', actor: 'test', body: { id: 'ep_h', reason: null } };
    const health = async () => {
      const e = await store.read.endpoints.getEndpoint('ep_h');
      return { failing_since: e?.failing_since, consecutive_dead: e?.consecutive_dead };
    };
    // A death, a success (clean again), then a failure and a death: failing since the failure, one dead.
    await append(store, attempt('h1', 'dead', 1), attempt('h2', 'succeeded', 2), attempt('h3', 'failed', 3), attempt('h4', 'dead', 4));
    expect(await health()).toEqual({ failing_since: at(3).toISOString(), consecutive_dead: 1 });
    // One transaction: a death kept, an enable rolled back (so the death still counts), a failure.
    const units = await Promise.allSettled([
      append(store, attempt('h5', 'dead', 5)),
      store.transact(async (tx) => {
        await tx.append(enabled);
        throw new Error('rolled back');
      }),
      append(store, attempt('h6', 'failed', 6)),
    ]);
    expect(units.map((u) => u.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(commits.at(-1)!.units).toBe(3);
    expect(await health()).toEqual({ failing_since: at(3).toISOString(), consecutive_dead: 2 });
    // Enabling starts clean: a death before it in the same unit no longer counts, one after it does.
    await append(store, attempt('h7', 'dead', 7), enabled, attempt('h8', 'dead', 8));
    expect(await health()).toEqual({ failing_since: at(8).toISOString(), consecutive_dead: 1 });
    expect(await store.rebuildCheck()).toMatchObject({ differences: [] });
  });

  it('runs afterCommit only for units that committed', async () => {
    const store = await open();
    const ran: string[] = [];
    await Promise.allSettled([
      store.transact(async (tx) => {
        tx.afterCommit(() => ran.push('ok'));
        await tx.append(revoke('key_a'));
      }),
      store.transact(async (tx) => {
        tx.afterCommit(() => ran.push('failed'));
        throw new Error('no');
      }),
    ]);
    expect(ran).toEqual(['ok']);
  });

  it('commits before the units after one that ends the transaction', async () => {
    const store = await open({ endsTransaction: (e) => e.kind === 'endpoint.created' });
    await Promise.all([append(store, revoke('key_a')), append(store, endpointCreated('ep_1')), append(store, revoke('key_b'))]);
    expect(commits.map((c) => c.entries.map((e) => e.stream))).toEqual([['key_a', 'ep_1'], ['key_b']]);
  });

  it('reads events and deliveries with filters and cursor paging, newest first', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'));
    for (let i = 1; i <= 5; i++) await append(store, received(`evt_${i}`, { endpoint: 'ep_1', type: i % 2 ? 'job.odd' : 'job.even' }));
    const first = await store.read.events.listEvents({ limit: 2 });
    expect(first.data.map((e) => e.id)).toEqual(['evt_5', 'evt_4']);
    const second = await store.read.events.listEvents({ limit: 2, cursor: first.next_cursor! });
    expect(second.data.map((e) => e.id)).toEqual(['evt_3', 'evt_2']);
    expect((await store.read.events.listEvents({ limit: 10, type: 'job.odd' })).data.map((e) => e.id)).toEqual(['evt_5', 'evt_3', 'evt_1']);
    expect(await store.read.events.getEvent('evt_2')).toMatchObject({ id: 'evt_2', data: { n: 1 }, subject: 'job-1' });
    expect((await store.read.events.eventsByIds(['evt_1', 'evt_3'])).map((e) => e.id)).toEqual(['evt_1', 'evt_3']);
    const deliveries = await store.read.deliveries.listDeliveries({ limit: 3, endpoint_id: 'ep_1', status: 'pending' });
    expect(deliveries.data.map((d) => d.id)).toEqual(['msg_evt_5', 'msg_evt_4', 'msg_evt_3']);
    const rest = await store.read.deliveries.listDeliveries({ limit: 3, endpoint_id: 'ep_1', cursor: deliveries.next_cursor! });
    expect(rest).toEqual({ data: [expect.objectContaining({ id: 'msg_evt_2' }), expect.objectContaining({ id: 'msg_evt_1' })], next_cursor: null });
    expect((await store.read.deliveries.deliveriesOfEvent('evt_1')).map((d) => d.status)).toEqual(['pending']);
    // by the event's type: exact, or a prefix as endpoint filters have it (`job.*` is not `job` nor `jobs.x`)
    const ofType = async (type: string) => (await store.read.deliveries.listDeliveries({ limit: 10, type })).data.map((d) => d.id);
    expect(await ofType('job.odd')).toEqual(['msg_evt_5', 'msg_evt_3', 'msg_evt_1']);
    expect(await ofType('job.*')).toEqual(['msg_evt_5', 'msg_evt_4', 'msg_evt_3', 'msg_evt_2', 'msg_evt_1']);
    expect(await ofType('job.od')).toEqual([]);
    const byTwo = await store.read.deliveries.listDeliveries({ limit: 2, type: 'job.*' });
    expect(byTwo.data.map((d) => d.id)).toEqual(['msg_evt_5', 'msg_evt_4']);
    const next = await store.read.deliveries.listDeliveries({ limit: 2, type: 'job.*', cursor: byTwo.next_cursor! });
    expect(next.data.map((d) => d.id)).toEqual(['msg_evt_3', 'msg_evt_2']);
    expect((await store.read.deliveries.listDeliveries({ limit: 2, type: 'job.*', cursor: next.next_cursor! })).data.map((d) => d.id)).toEqual(['msg_evt_1']);
    expect(await ofType('job_*')).toEqual([]);
    expect((await store.read.deliveries.listDeliveries({ limit: 1, type: 'job.even', status: 'pending' })).data).toEqual([expect.objectContaining({ id: 'msg_evt_4', event_type: 'job.even' })]);
  });

  it('filters deliveries by creation time, also when the clock stepped back', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'));
    now = at(600);
    await append(store, received('evt_late', { endpoint: 'ep_1' }));
    now = at(0); // the clock steps back ten minutes
    await append(store, received('evt_early', { endpoint: 'ep_1' }));
    now = at(1200);
    await append(store, received('evt_last', { endpoint: 'ep_1' }));
    const ids = async (since?: Date, until?: Date) =>
      (await store.read.deliveries.listDeliveries({ since: since?.toISOString(), until: until?.toISOString(), limit: 10 })).data.map((d) => d.id);
    expect(await ids(at(300))).toEqual(['msg_evt_last', 'msg_evt_late']);
    expect(await ids(undefined, at(300))).toEqual(['msg_evt_early']);
    expect(await ids(at(300), at(900))).toEqual(['msg_evt_late']);
    expect(await ids(at(1300))).toEqual([]);
    expect(await ids(undefined, at(-60))).toEqual([]);
    expect(await store.rebuildCheck()).toMatchObject({ differences: [] });
  });

  it('keeps idempotency records with the event', async () => {
    const store = await open();
    await append(store, received('evt_1', { key: 'k-1' }));
    expect(await store.read.idempotency.findIdempotency('key_1', 'k-1')).toMatchObject({ event_id: 'evt_1', status: 202, fingerprint: 'f'.repeat(64) });
    expect(await store.read.idempotency.findIdempotency('key_1', 'k-2')).toBeUndefined();
    expect(await store.transact((tx) => tx.findIdempotency('key_1', 'k-1'))).toMatchObject({ event_id: 'evt_1' });
    expect(await store.read.events.eventIdsByIdempotencyKey('k-1')).toEqual(['evt_1']);
    expect(await store.read.events.eventIdsByIdempotencyKey('k-2')).toEqual([]);
  });

  it('finds the events of an idempotency key across every API key that used it, newest first', async () => {
    const store = await open();
    await append(store, received('evt_1', { key: 'k-1', apiKey: 'key_b' }), received('evt_2', { key: 'k-2', apiKey: 'key_a' }));
    await append(store, received('evt_3', { key: 'k-1', apiKey: 'key_c' }), received('evt_4', { key: 'k-1', apiKey: 'key_a' }));
    expect(await store.read.events.eventIdsByIdempotencyKey('k-1')).toEqual(['evt_4', 'evt_3', 'evt_1']);
    expect(await store.read.events.eventIdsByIdempotencyKey('k-2')).toEqual(['evt_2']);
    expect(await store.read.events.eventIdsByIdempotencyKey('k-3')).toEqual([]);
    expect(await store.read.idempotency.findIdempotency('key_c', 'k-1')).toMatchObject({ event_id: 'evt_3' });
  });

  it('hands out due deliveries per endpoint, oldest first, leases them, and finds expired leases', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'), endpointCreated('ep_2'));
    await append(store, received('evt_late', { endpoint: 'ep_1', due: at(20) }), received('evt_a', { endpoint: 'ep_1', due: at(5) }), received('evt_b', { endpoint: 'ep_1', due: at(10) }));
    await append(store, received('evt_c', { endpoint: 'ep_2', due: at(8) }), received('evt_held', { endpoint: 'ep_2', due: null }));

    expect(await store.read.deliveries.endpointsDueBetween(null, at(9))).toEqual(expect.arrayContaining(['ep_1', 'ep_2']));
    expect(await store.read.deliveries.endpointsDueBetween(at(9), at(15))).toEqual(['ep_1']);
    expect(await store.read.deliveries.nextDueAfter(at(10))).toEqual(at(20));
    expect(await store.read.deliveries.nextDueAfter(at(20))).toBeNull();

    now = at(15);
    const leased = await store.transact(async (tx: Tx) => {
      const due = await tx.dueDeliveries('ep_1', tx.now(), 5);
      await tx.append({ kind: 'attempts.leased', stream: 'scheduler', actor: 'herald', body: { leases: due.map((d) => ({ delivery_id: d.id, n: d.attempts + 1, lease_until: at(45).toISOString() })) } });
      return due.map((d) => d.id);
    });
    expect(leased).toEqual(['msg_evt_a', 'msg_evt_b']);
    expect(await store.transact((tx) => tx.dueDeliveries('ep_1', tx.now(), 5))).toEqual([]); // leased rows are not due
    expect(await store.transact((tx) => tx.attemptsInFlight(['msg_evt_a', 'msg_evt_b', 'msg_evt_c', 'msg_nope']))).toEqual(
      new Map([['msg_evt_a', 1], ['msg_evt_b', 1]]),
    );
    const d = await store.read.deliveries.getDelivery('msg_evt_a');
    expect(d).toMatchObject({ status: 'delivering', attempts: 1, lease_until: at(45).toISOString(), next_attempt_at: null });
    expect(await store.read.deliveries.attemptsOf('msg_evt_a')).toEqual([expect.objectContaining({ n: 1, finished_at: null, trigger: 'initial', actor: 'test' })]);
    expect(await store.read.deliveries.expiredLeases(at(44), 10)).toEqual([]);
    expect((await store.read.deliveries.expiredLeases(at(46), 10)).map((x) => x.id)).toEqual(['msg_evt_a', 'msg_evt_b']);
    expect(await store.read.deliveries.queueStats(at(15))).toEqual({ waiting: 3, waiting_capped: false, delivering: 2, oldest_due_at: at(8).toISOString() });
    expect(await store.read.deliveries.queueStats(at(15), 2)).toEqual({ waiting: 2, waiting_capped: true, delivering: 2, oldest_due_at: at(8).toISOString() });

    // Recording the attempt settles the delivery and keeps the attempt.
    now = at(16);
    await append(store, {
      kind: 'attempt.recorded', stream: 'msg_evt_a', actor: 'herald',
      body: {
        delivery_id: 'msg_evt_a', n: 1, trigger: 'initial', actor: 'test', started_at: at(15).toISOString(), finished_at: at(16).toISOString(), duration_ms: 1000,
        outcome: 'http_error', status_code: 500, error: 'HTTP 500', request_headers: { 'webhook-id': 'msg_evt_a' }, response_headers: null, response_body: 'no',
        remote_address: '127.0.0.1', delivery_status: 'failed', next_attempt_at: at(30).toISOString(),
      },
    });
    expect(await store.read.deliveries.getDelivery('msg_evt_a')).toMatchObject({ status: 'failed', attempts: 1, next_attempt_at: at(30).toISOString(), lease_until: null, last_outcome: 'http_error' });
    expect(await store.read.deliveries.attemptsOf('msg_evt_a')).toEqual([expect.objectContaining({ n: 1, outcome: 'http_error', status_code: 500, request_headers: { 'webhook-id': 'msg_evt_a' } })]);
    expect(await store.read.endpoints.failingEndpoints(at(15), 100)).toEqual([expect.objectContaining({ id: 'ep_1', failing_since: at(15).toISOString() })]);
    expect((await store.read.endpoints.troubledEndpoints(10)).map((e) => e.id)).toEqual(['ep_1']);
    expect(await store.read.deliveries.recentFailures('ep_1', 10, 5)).toEqual([expect.objectContaining({ delivery_id: 'msg_evt_a', n: 1, outcome: 'http_error' })]);
    expect(await store.read.deliveries.recentFailures('ep_2', 10, 5)).toEqual([]);
    // Activity per minute: the five events received, the attempt that left its delivery failed.
    expect(await store.read.activity.between(at(-60), at(120))).toEqual([
      { minute: '2026-11-01T10:00:00.000Z', endpoint_id: null, what: 'received', n: 5 },
      { minute: '2026-11-01T10:00:00.000Z', endpoint_id: 'ep_1', what: 'failed', n: 1 },
    ]);
    expect(await store.read.activity.between(at(-60), at(120), 'ep_2')).toEqual([]);
    expect(await store.read.activity.between(at(60), at(120))).toEqual([]);

    // A requeue starts a new cycle, due now.
    now = at(17);
    await append(store, { kind: 'deliveries.requeued', stream: 'msg_evt_a', actor: 'alice', body: { delivery_ids: ['msg_evt_a'], trigger: 'redelivery', reason: null, next_attempt_at: at(17).toISOString() } });
    expect(await store.read.deliveries.getDelivery('msg_evt_a')).toMatchObject({ status: 'pending', cycle_start: 1, next_trigger: 'redelivery', next_actor: 'alice' });
    expect(await store.rebuildCheck()).toMatchObject({ differences: [] });
  });

  it('records an attempt that herald 0.1.0 leased (attempt.started), and an interruption leaves the endpoint\'s health alone', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'), received('evt_a', { endpoint: 'ep_1' }));
    await append(store, { kind: 'attempt.started', stream: 'msg_evt_a', actor: 'test', body: { delivery_id: 'msg_evt_a', n: 1, trigger: 'initial', lease_until: at(30).toISOString() } });
    expect(await store.read.deliveries.attemptsOf('msg_evt_a')).toEqual([expect.objectContaining({ n: 1, finished_at: null })]);
    await append(store, {
      kind: 'attempt.recorded', stream: 'msg_evt_a', actor: 'herald',
      body: {
        delivery_id: 'msg_evt_a', n: 1, trigger: 'initial', actor: 'test', started_at: at(0).toISOString(), finished_at: at(31).toISOString(), duration_ms: 31000,
        outcome: 'interrupted', status_code: null, error: 'the lease expired', request_headers: null, response_headers: null, response_body: null,
        remote_address: null, delivery_status: 'failed', next_attempt_at: at(31).toISOString(),
      },
    });
    expect(await store.read.deliveries.attemptsOf('msg_evt_a')).toEqual([expect.objectContaining({ n: 1, outcome: 'interrupted', error: 'the lease expired' })]);
    expect(await store.read.endpoints.getEndpoint('ep_1')).toMatchObject({ failing_since: null, consecutive_dead: 0 });
    expect(await store.rebuildCheck()).toMatchObject({ differences: [] });
  });

  it('rebuilds projections equal to the live ones', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'));
    for (let i = 1; i <= 3; i++) await append(store, received(`evt_${i}`, { endpoint: 'ep_1', key: `k-${i}` }));
    await append(store, { kind: 'endpoint.disabled', stream: 'ep_1', actor: 'test', body: { id: 'ep_1', reason: 'x', automatic: false } });
    const report = await store.rebuildCheck();
    expect(report).toMatchObject({ entries: 5, differences: [] });
    expect(report.tables).toMatchObject({ endpoints: 1, events: 3, deliveries: 3, idempotency_keys: 3 });
  });
});

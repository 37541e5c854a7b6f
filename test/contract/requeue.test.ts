// What every store must do for bulk requeue, run against each store in STORES: find the deliveries a
// requeue may touch (settled, to a live endpoint or none, not held for a digest, up to a position) a
// step at a time and count them; project jobs from requeue.started, their chunks and requeue.finished.
import { describe, expect, it } from 'vitest';
import type { EntryDraft } from '../../src/domain/ledger-entry.js';
import { REQUEUABLE_STATUSES } from '../../src/domain/requeue.js';
import type { RecoveryPosition, RequeueSelection } from '../../src/store/records.js';
import type { Store } from '../../src/store/store.js';
import { T0, at, endpointCreated, received, settled } from './drafts.js';
import { STORES, appendAll, storePerTest } from './stores.js';

/** An event whose one delivery is an email to its own recipients (no endpoint). */
function adHoc(id: string, type: string): EntryDraft<'event.received'> {
  const draft = received(id, { type });
  draft.body.deliveries = [{ id: `msg_${id}`, endpoint_id: null, channel: 'email', next_attempt_at: T0.toISOString(), recipients: ['a@example.com'] }];
  return draft;
}

const bulk = (match: RequeueSelection['match'], upTo: number | null = null): RequeueSelection => ({ match, statuses: REQUEUABLE_STATUSES, live_endpoints_only: true, up_to_seq: upTo });

describe.each(STORES)('store contract (requeue): $name', (factory) => {
  let now = T0;
  const stores = storePerTest(factory);
  const open = (): Promise<Store> => {
    now = T0;
    return stores.open({ clock: () => now });
  };
  const append = appendAll;

  /** Every candidate, a step of `limit` at a time, as a requeue job walks them. */
  const walk = async (store: Store, sel: RequeueSelection, limit: number) => {
    const ids: string[] = [];
    let after: RecoveryPosition | null = [0, 0];
    for (let steps = 0; after; steps++) {
      const from: RecoveryPosition = after;
      const step = await store.transact((tx) => tx.requeueCandidates(sel, from, limit));
      expect(step.rows.length).toBeLessThanOrEqual(limit);
      ids.push(...step.rows.map((r) => r.id));
      after = step.next;
      if (steps > 100) throw new Error('the steps do not end');
    }
    return ids;
  };

  it('finds settled deliveries to live endpoints (or none), not held for a digest, up to a position, a step at a time', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_live'), endpointCreated('ep_off'), endpointCreated('ep_gone'));
    await append(
      store,
      received('evt_1', { endpoint: 'ep_live', type: 'job.a' }),
      received('evt_2', { endpoint: 'ep_live', type: 'job.b' }),
      received('evt_3', { endpoint: 'ep_live', type: 'job.a' }), // stays pending
      received('evt_4', { endpoint: 'ep_off', type: 'job.a' }),
      received('evt_5', { endpoint: 'ep_gone', type: 'job.a' }),
      received('evt_6', { endpoint: 'ep_live', type: 'other.x' }),
      adHoc('evt_7', 'job.a'),
      received('evt_8', { endpoint: 'ep_live', due: null, type: 'job.a' }), // held for a digest
    );
    await append(store, {
      kind: 'digest.created', stream: 'ep_live', actor: 'herald',
      body: { delivery: { id: 'msg_dg', endpoint_id: 'ep_live', channel: 'webhook', next_attempt_at: T0.toISOString() }, event_ids: ['evt_8'], delivery_ids: ['msg_evt_8'] },
    });
    await append(store, settled('msg_evt_1', 'dead'), settled('msg_evt_2', 'succeeded'), settled('msg_evt_4', 'dead'), settled('msg_evt_5', 'dead'));
    await append(store, settled('msg_evt_6', 'failed'), settled('msg_evt_7', 'dead'), settled('msg_dg', 'dead'));
    await append(
      store,
      { kind: 'endpoint.disabled', stream: 'ep_off', actor: 'test', body: { id: 'ep_off', reason: null, automatic: false } },
      { kind: 'endpoint.archived', stream: 'ep_gone', actor: 'test', body: { id: 'ep_gone' } },
    );
    const upTo = (await store.read.ledger.ledgerHead())!.seq;
    now = at(10);
    await append(store, received('evt_9', { endpoint: 'ep_live', type: 'job.a' }), settled('msg_evt_9', 'dead'));

    // the digest delivery takes the type of the event it carries; the held one shares its fate
    expect(await store.read.deliveries.getDelivery('msg_dg')).toMatchObject({ event_type: 'job.a', status: 'dead' });
    expect(await store.read.deliveries.getDelivery('msg_evt_8')).toMatchObject({ status: 'dead', digest_id: 'msg_dg' });

    const cases: Array<[RequeueSelection, string[]]> = [
      [bulk({}), ['msg_evt_1', 'msg_evt_2', 'msg_evt_6', 'msg_evt_7', 'msg_dg', 'msg_evt_9']],
      [bulk({}, upTo), ['msg_evt_1', 'msg_evt_2', 'msg_evt_6', 'msg_evt_7', 'msg_dg']],
      [bulk({ type: 'job.*' }), ['msg_evt_1', 'msg_evt_2', 'msg_evt_7', 'msg_dg', 'msg_evt_9']],
      [bulk({ type: 'job.a', status: 'dead' }), ['msg_evt_1', 'msg_evt_7', 'msg_dg', 'msg_evt_9']],
      [bulk({ status: 'succeeded' }), ['msg_evt_2']],
      [bulk({ status: 'pending' }), []],
      [bulk({ endpoint_id: 'ep_off' }), []],
      [bulk({ endpoint_id: 'ep_gone' }), []],
      [bulk({ channel: 'email' }), ['msg_evt_7']],
      [bulk({ event_id: 'evt_6' }), ['msg_evt_6']],
      [bulk({ since: at(5).toISOString() }), ['msg_evt_9']],
      [bulk({ until: at(5).toISOString(), type: 'other.*' }), ['msg_evt_6']],
      // a recovery's selection: failed or dead, whatever the endpoint's state
      [{ match: { endpoint_id: 'ep_off' }, statuses: ['failed', 'dead'], live_endpoints_only: false, up_to_seq: null }, ['msg_evt_4']],
    ];
    for (const [sel, expected] of cases) {
      const label = JSON.stringify(sel);
      expect(await walk(store, sel, 2), label).toEqual(expected);
      expect(await walk(store, sel, 100), label).toEqual(expected);
      expect(await store.read.deliveries.countRequeueCandidates(sel), label).toBe(expected.length);
    }
  });

  it('walks on past a long run of deliveries it may not touch (a step looks at part of the table, and may find none)', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_off'), endpointCreated('ep_live'));
    await append(store, { kind: 'endpoint.disabled', stream: 'ep_off', actor: 'test', body: { id: 'ep_off', reason: null, automatic: false } });
    await append(store, received('evt_first', { endpoint: 'ep_live' }), settled('msg_evt_first', 'dead'));
    // one event fanned out 12,000 times to the disabled endpoint (held, pending): none of them may be touched
    const fanOut = received('evt_many', { endpoint: 'ep_off' });
    fanOut.body.deliveries = Array.from({ length: 12_000 }, (_, i) => ({ id: `msg_many_${i}`, endpoint_id: 'ep_off', channel: 'webhook' as const, next_attempt_at: null, recipients: null }));
    await append(store, fanOut);
    await append(store, received('evt_last', { endpoint: 'ep_live' }), settled('msg_evt_last', 'dead'));

    expect(await walk(store, bulk({ status: 'dead' }), 1)).toEqual(['msg_evt_first', 'msg_evt_last']);
    expect(await walk(store, bulk({}), 2)).toEqual(['msg_evt_first', 'msg_evt_last']);
    expect(await store.read.deliveries.countRequeueCandidates(bulk({}))).toBe(2);
  });

  it('projects a job from requeue.started, its chunks and requeue.finished, and rebuilds it equal', async () => {
    const store = await open();
    await append(store, endpointCreated('ep_1'), received('evt_1', { endpoint: 'ep_1' }), received('evt_2', { endpoint: 'ep_1' }));
    await append(store, settled('msg_evt_1', 'dead'), settled('msg_evt_2', 'dead'));
    const upTo = (await store.read.ledger.ledgerHead())!.seq;
    now = at(1);
    await append(store, { kind: 'requeue.started', stream: 'job_1', actor: 'alice', body: { job_id: 'job_1', filters: { status: 'dead', type: 'job.*' }, reason: 'fixed', total: 2, up_to_seq: upTo } });
    expect(await store.read.requeueJobs.getJob('job_1')).toEqual({
      id: 'job_1', seq: upTo + 1, actor: 'alice', reason: 'fixed', filters: { status: 'dead', type: 'job.*' }, up_to_seq: upTo, total: 2, requeued: 0,
      cursor: null, state: 'running', started_at: at(1).toISOString(), updated_at: at(1).toISOString(), finished_at: null,
    });
    expect((await store.read.requeueJobs.runningJobs()).map((j) => j.id)).toEqual(['job_1']);

    now = at(2);
    const chunk = (ids: string[], cursor: [number, number]): EntryDraft<'deliveries.requeued'> => ({
      kind: 'deliveries.requeued', stream: 'job_1', actor: 'alice',
      body: { delivery_ids: ids, trigger: 'redelivery', reason: 'fixed', next_attempt_at: now.toISOString(), job: { id: 'job_1', cursor } },
    });
    await append(store, chunk(['msg_evt_1'], [2, 0]));
    expect(await store.read.requeueJobs.getJob('job_1')).toMatchObject({ state: 'running', requeued: 1, cursor: [2, 0], updated_at: at(2).toISOString() });
    expect(await store.read.deliveries.getDelivery('msg_evt_1')).toMatchObject({ status: 'pending', next_trigger: 'redelivery', next_actor: 'alice' });
    expect(await store.read.deliveries.getDelivery('msg_evt_2')).toMatchObject({ status: 'dead' });
    await append(store, chunk(['msg_evt_2'], [3, 0]));
    expect(await store.transact((tx) => tx.getRequeueJob('job_1'))).toMatchObject({ requeued: 2, cursor: [3, 0] });

    now = at(3);
    await append(store, { kind: 'requeue.finished', stream: 'job_1', actor: 'alice', body: { job_id: 'job_1', requeued: 2 } });
    await append(store, { kind: 'requeue.started', stream: 'job_2', actor: 'bob', body: { job_id: 'job_2', filters: {}, reason: null, total: 0, up_to_seq: upTo + 4 } });
    expect(await store.read.requeueJobs.getJob('job_1')).toMatchObject({ state: 'finished', requeued: 2, finished_at: at(3).toISOString() });
    expect((await store.read.requeueJobs.runningJobs()).map((j) => j.id)).toEqual(['job_2']);
    const first = await store.read.requeueJobs.listJobs({ limit: 1 });
    expect(first.data.map((j) => j.id)).toEqual(['job_2']);
    expect(await store.read.requeueJobs.listJobs({ limit: 1, cursor: first.next_cursor! })).toEqual({ data: [expect.objectContaining({ id: 'job_1' })], next_cursor: null });
    expect(await store.read.requeueJobs.getJob('job_nope')).toBeUndefined();

    const report = await store.rebuildCheck();
    expect(report.differences).toEqual([]);
    expect(report.tables).toMatchObject({ requeue_jobs: 2, deliveries: 2 });
  });
});

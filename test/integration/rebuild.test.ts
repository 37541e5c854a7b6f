// `herald ledger rebuild --check`: after a mixed workload the projections equal a replay of the
// ledger; a projection row edited behind the ledger's back is reported.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiKeySchema } from '../../src/http/schemas.js';
import { createEndpoint, ingest, postEvent, uniqueKey } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { waitForDelivery } from '../support/deliveries.js';
import { finish, startTestHerald, trackFailures } from '../support/herald.js';
import { startReceiver } from '../support/receiver.js';

const HOOK = 'http://127.0.0.1:9/hook';
const report = z.object({
  ok: z.boolean(),
  entries: z.number().int(),
  tables: z.record(z.string(), z.number().int()),
  differences: z.array(z.object({ table: z.string(), key: z.string(), live: z.record(z.string(), z.unknown()).nullable(), rebuilt: z.record(z.string(), z.unknown()).nullable() })),
});

describe('ledger rebuild --check', () => {
  const failures = trackFailures();

  it('equals the live projections after a mixed workload, and reports a projection edited directly', async () => {
    // a real receiver on 127.0.0.1 (startTestHerald sets HERALD_ALLOW_PRIVATE_NETWORKS): paths answer as `fail` says
    const fail = new Set<string>(['/flaky', '/re', '/rec']);
    const rx = await startReceiver((r) => {
      if (r.path === '/flaky' && fail.has('/flaky')) {
        fail.delete('/flaky'); // fails once, then the retry succeeds
        return { status: 500 };
      }
      return { status: fail.has(r.path) ? 503 : 200 };
    });
    let h = await startTestHerald({ HERALD_ALLOW_PRIVATE_NETWORKS: 'true' });
    try {
      // keys: created, used, one revoked
      const ingestKey = await h.createKey('ingest', 'rebuild-ingest');
      const operateKey = await h.createKey('operate', 'rebuild-operate');
      const doomed = apiKeySchema.parse((await h.request('POST', '/v1/keys', { body: { name: 'doomed', role: 'read' } })).body);
      expect((await h.request('DELETE', `/v1/keys/${doomed.id}`)).status).toBe(200);

      // endpoints of every channel, changed in every way
      const wh = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['job.*'], headers: { Authorization: 'Bearer x' }, retry: { schedule_s: [1, 1] } });
      const em = await createEndpoint(h, { channel: 'email', to: ['ops@example.com'], smtp_url: 'smtp://u:p@127.0.0.1:2525', events: ['job.failed'], users: ['alice'] });
      const sl = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['*'], template: { text: '{{event.type}}' } });
      const dc = await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['run_*'], subject: 'run-1' });
      const gone = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'] });
      expect((await h.request('PATCH', `/v1/endpoints/${wh.id}`, { body: { description: 'patched', events: ['job.*', 'run_*'], headers: { 'X-New': 'y' } } })).status).toBe(200);
      expect((await h.request('PATCH', `/v1/endpoints/${em.id}`, { body: { to: ['ops@example.com', 'ml@example.com'], smtp_url: null } })).status).toBe(200);
      expect((await h.request('POST', `/v1/endpoints/${wh.id}/rotate-secret`, { body: { grace_s: 60 } })).status).toBe(200);
      expect((await h.request('POST', `/v1/endpoints/${sl.id}/disable`, { key: operateKey, body: { reason: 'noisy' } })).status).toBe(200);
      expect((await h.request('POST', `/v1/endpoints/${sl.id}/enable`, { key: operateKey })).status).toBe(200);
      expect((await h.request('POST', `/v1/endpoints/${dc.id}/disable`, { key: operateKey })).status).toBe(200);

      // events: single, replayed, refused, with notify, and a batch
      // data keys deliberately out of order: the ledger keeps canonical (sorted) JSON
      const e1 = await ingest(h, { type: 'job.failed', user: 'alice', subject: 'job-1', data: { z: 137, a: { y: [1, { d: 1, c: 2 }], b: null } } }, ingestKey);
      const idem = uniqueKey();
      expect((await postEvent(h, { type: 'job.completed' }, { key: ingestKey, idempotencyKey: idem })).status).toBe(202);
      expect((await postEvent(h, { type: 'job.completed' }, { key: ingestKey, idempotencyKey: idem })).headers.get('idempotent-replayed')).toBe('true');
      expect((await postEvent(h, { type: 'job.other' }, { key: ingestKey, idempotencyKey: idem })).status).toBe(422);
      await ingest(h, { type: 'run_started', subject: 'run-1', notify: { email: ['owner@example.com'] } }, ingestKey);
      const batch = await h.request('POST', '/v1/events/batch', {
        key: ingestKey,
        body: { events: [{ idempotency_key: uniqueKey(), type: 'job.a' }, { idempotency_key: 'bad', type: '' }, { idempotency_key: uniqueKey(), type: 'run_done', user: 'bob' }] },
      });
      expect(batch.status).toBe(200);
      // archive one with waiting deliveries
      expect((await h.request('DELETE', `/v1/endpoints/${gone.id}`)).status).toBe(200);
      expect(e1.deliveries.length).toBeGreaterThan(1);

      // deliveries that settle: a success, a retry that succeeds, a redelivery, a recovery, a digest
      const since = new Date(Date.now() - 1000).toISOString();
      const okEp = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/ok`, events: ['ok.*'] });
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/flaky`, events: ['flaky.*'], retry: { schedule_s: [1] } });
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/re`, events: ['re.*'], retry: { schedule_s: [] } });
      const recEp = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/rec`, events: ['rec.*'], retry: { schedule_s: [] } });
      const dgEp = await createEndpoint(h, { channel: 'slack', url: `${rx.url}/digest`, events: ['dg.*'], digest: { cron: '* * * * * *' } });
      const only = (ev: { deliveries: Array<{ id: string; endpoint_id: string | null }> }, ep: { id: string }) => ev.deliveries.find((d) => d.endpoint_id === ep.id)!.id;
      const okId = only(await ingest(h, { type: 'ok.one' }, ingestKey), okEp);
      const flakyEv = await ingest(h, { type: 'flaky.one' }, ingestKey);
      const flakyId = flakyEv.deliveries.find((d) => d.endpoint_id !== sl.id)!.id;
      const reEv = await ingest(h, { type: 're.one' }, ingestKey);
      const reId = reEv.deliveries.find((d) => d.endpoint_id !== sl.id)!.id;
      const recId = only(await ingest(h, { type: 'rec.one' }, ingestKey), recEp);
      const dgIds = [only(await ingest(h, { type: 'dg.one', subject: 'a' }, ingestKey), dgEp), only(await ingest(h, { type: 'dg.two', subject: 'b' }, ingestKey), dgEp)];

      expect((await waitForDelivery(h, okId, (d) => d.status === 'succeeded')).attempts).toHaveLength(1);
      expect((await waitForDelivery(h, flakyId, (d) => d.status === 'succeeded')).attempts.map((a) => a.outcome)).toEqual(['http_error', 'succeeded']);
      await waitForDelivery(h, reId, (d) => d.status === 'dead');
      await waitForDelivery(h, recId, (d) => d.status === 'dead');
      fail.clear();
      expect((await h.request('POST', `/v1/deliveries/${reId}/redeliver`, { key: operateKey, body: { reason: 'receiver fixed' } })).status).toBe(202);
      const recovered = await h.request<{ requeued: number }>('POST', `/v1/endpoints/${recEp.id}/recover`, { key: operateKey, body: { since } });
      expect(recovered.status).toBe(202);
      expect(recovered.body.requeued).toBe(1);
      expect((await waitForDelivery(h, reId, (d) => d.status === 'succeeded')).attempts.at(-1)).toMatchObject({ trigger: 'redelivery', outcome: 'succeeded' });
      expect((await waitForDelivery(h, recId, (d) => d.status === 'succeeded')).attempts.at(-1)).toMatchObject({ trigger: 'recovery', outcome: 'succeeded' });
      for (const id of dgIds) expect((await waitForDelivery(h, id, (d) => d.status === 'succeeded' && d.digest_id !== null)).digest_id).toBeTruthy();
      // a bulk requeue job (requeue.started, a chunk, requeue.finished) of the recovered delivery
      const job = await h.request<{ id: string }>('POST', '/v1/deliveries/requeue', { key: operateKey, body: { endpoint_id: recEp.id, reason: 'again' } });
      expect(job.status).toBe(202);
      await waitForDelivery(h, recId, (d) => d.status === 'succeeded' && d.attempts.length === 3);
      expect((await h.request('GET', `/v1/deliveries/requeue/${job.body.id}`)).body).toMatchObject({ state: 'finished', requeued: 1 });

      // an endpoint with settled deliveries disabled and re-enabled, then delivering again
      expect((await h.request('POST', `/v1/endpoints/${okEp.id}/disable`, { key: operateKey, body: { reason: 'maintenance' } })).status).toBe(200);
      expect((await ingest(h, { type: 'ok.skipped' }, ingestKey)).deliveries.some((d) => d.endpoint_id === okEp.id)).toBe(false);
      expect((await h.request('POST', `/v1/endpoints/${okEp.id}/enable`, { key: operateKey, body: { reason: 'back' } })).status).toBe(200);
      await waitForDelivery(h, only(await ingest(h, { type: 'ok.two' }, ingestKey), okEp), (d) => d.status === 'succeeded');

      // let the delivery engine (if running) record some attempts, then stop so nothing moves during the check
      await new Promise((r) => setTimeout(r, 300));
      await h.stop();
      await rx.close();

      const ok = await runCli(['ledger', 'rebuild', '--check'], { HERALD_DB: h.dbPath });
      expect(ok.stderr).toBe('');
      const good = report.parse(JSON.parse(ok.stdout));
      expect(good.differences).toEqual([]);
      expect(ok.code).toBe(0);
      expect(good.ok).toBe(true);
      expect(good.entries).toBeGreaterThan(20);
      expect(good.tables).toMatchObject({ endpoints: 10, api_keys: 3, requeue_jobs: 1 });
      expect(good.tables.events).toBeGreaterThanOrEqual(14);
      expect(good.tables.deliveries).toBeGreaterThanOrEqual(16);
      expect(good.tables.idempotency_keys).toBe(13);

      // edit projections behind the ledger's back
      const db = new Database(h.dbPath);
      try {
        expect(db.prepare("UPDATE events SET type = 'x' WHERE id = ?").run(e1.id).changes).toBe(1);
        expect(db.prepare('UPDATE endpoints SET enabled = 1 - enabled WHERE id = ?').run(dc.id).changes).toBe(1);
        expect(db.prepare('DELETE FROM api_keys WHERE id = ?').run(doomed.id).changes).toBe(1);
        expect(db.prepare('UPDATE requeue_jobs SET requeued = 7 WHERE id = ?').run(job.body.id).changes).toBe(1);
      } finally {
        db.close();
      }
      const bad = await runCli(['ledger', 'rebuild', '--check'], { HERALD_DB: h.dbPath });
      expect(bad.code).toBe(1);
      const r = report.parse(JSON.parse(bad.stdout));
      expect(r.ok).toBe(false);
      const byTable = Object.fromEntries(r.differences.map((d) => [`${d.table}/${d.key}`, d]));
      expect(Object.keys(byTable).sort()).toEqual([`api_keys/${doomed.id}`, `endpoints/${dc.id}`, `events/${e1.id}`, `requeue_jobs/${job.body.id}`].sort());
      expect(byTable[`requeue_jobs/${job.body.id}`]).toMatchObject({ live: { requeued: 7 }, rebuilt: { requeued: 1 } });
      expect(byTable[`events/${e1.id}`]).toMatchObject({ live: { type: 'x' }, rebuilt: { type: 'job.failed' } });
      expect(byTable[`endpoints/${dc.id}`]).toMatchObject({ live: { enabled: 1 }, rebuilt: { enabled: 0 } });
      expect(byTable[`api_keys/${doomed.id}`]).toMatchObject({ live: null, rebuilt: { id: doomed.id, name: 'doomed' } });

      // the ledger itself is intact: verify still passes, and herald still starts on the file
      expect((await runCli(['ledger', 'verify'], { HERALD_DB: h.dbPath })).code).toBe(0);
      h = await h.restart();
      expect((await h.request('GET', '/readyz', { key: null })).status).toBe(200);
    } finally {
      await rx.close();
      await finish(h, failures.failed);
    }
  });
});

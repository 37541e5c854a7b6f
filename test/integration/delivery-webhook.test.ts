// The delivery engine against real loopback receivers: signing, retries, permanent failures,
// timeouts, refused connections, redirects, capped bodies, rotation.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpoint, getDelivery, ledgerEntries, postEvent, waitForDelivery } from '../support/deliveries.js';
import { useHerald } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';

describe('webhook delivery', () => {
  const herald = useHerald();
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
  });

  it('delivers a signed event that a Standard Webhooks library verifies, and records the attempt', async () => {
    const h = herald();
    rx.reply({ status: 200, body: 'thanks', headers: { 'x-receiver': 'yes' } });
    const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/ok`, events: ['job.completed'], headers: { Authorization: 'Bearer t0ken' } });
    const before = rx.received.length;
    const ev = await postEvent(h, { type: 'job.completed', subject: 'job-1', user: 'alice', data: { exit: 0 } });
    const msgId = ev.deliveries[0]!.id;
    const d = await waitForDelivery(h, msgId, (x) => x.status === 'succeeded');
    const got = rx.received.slice(before).find((r) => r.headers['webhook-id'] === msgId)!;
    expect(got).toBeDefined();
    const payload = new Webhook(ep.secret!).verify(got.body, got.headers as Record<string, string>) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: ev.id, type: 'job.completed', subject: 'job-1', user: 'alice', data: { exit: 0 } });
    expect(got.headers['user-agent']).toMatch(/^herald\//);
    expect(got.headers.authorization).toBe('Bearer t0ken');
    expect(got.headers['content-type']).toBe('application/json');

    const a = d.attempts[0]!;
    expect(a).toMatchObject({ n: 1, outcome: 'succeeded', status_code: 200, response_body: 'thanks', trigger: 'initial' });
    expect(a.remote_address).toBe(`127.0.0.1:${rx.port}`);
    expect(a.response_headers?.['x-receiver']).toBe('yes');
    expect(a.request_headers?.['webhook-id']).toBe(msgId);
    expect(a.request_headers?.['webhook-signature']).toMatch(/^v1,/);
    expect(a.request_headers?.authorization).toBe('[redacted]'); // custom header values are secrets
    expect(a.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('retries 500, 500 then succeeds on the schedule: one webhook-id, three valid signatures', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/flaky`, events: ['flaky.*'], retry: { schedule_s: [0.3, 0.3] } });
    let calls = 0;
    rx.reply((r) => (r.path === '/flaky' ? { status: ++calls < 3 ? 500 : 200 } : { status: 200 }));
    const ev = await postEvent(h, { type: 'flaky.run' });
    const msgId = ev.deliveries[0]!.id;
    const d = await waitForDelivery(h, msgId, (x) => x.status === 'succeeded');
    expect(d.attempts.map((a) => [a.n, a.outcome, a.status_code, a.trigger])).toEqual([
      [1, 'http_error', 500, 'initial'],
      [2, 'http_error', 500, 'retry'],
      [3, 'succeeded', 200, 'retry'],
    ]);
    const hits = rx.received.filter((r) => r.path === '/flaky');
    expect(hits).toHaveLength(3);
    const wh = new Webhook(ep.secret!);
    for (const hit of hits) {
      expect(hit.headers['webhook-id']).toBe(msgId);
      expect(() => wh.verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();
    }
    // the schedule was honoured: each retry came at least 0.3 s after the previous attempt
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(280);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(280);
  });

  it('a 410 is dead at once, disables the endpoint and emits delivery.exhausted and endpoint.disabled', async () => {
    const h = herald();
    const watcher = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/watch`, events: ['delivery.exhausted', 'endpoint.disabled'] });
    const gone = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/gone`, events: ['gone.*'] });
    rx.reply((r) => (r.path === '/gone' ? { status: 410 } : { status: 200 }));
    const ev = await postEvent(h, { type: 'gone.now', subject: 'job-410' });
    const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]!.status_code).toBe(410);

    const seen = await waitFor('both herald events at the watcher', () => {
      const bodies = rx.received.filter((r) => r.path === '/watch').map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
      const ex = bodies.find((b) => b.type === 'delivery.exhausted' && b.data.delivery_id === d.id);
      const dis = bodies.find((b) => b.type === 'endpoint.disabled' && b.data.endpoint_id === gone.id);
      return ex && dis ? { ex, dis } : null;
    });
    expect(seen.ex.data).toMatchObject({ delivery_id: d.id, event_id: ev.id, endpoint_id: gone.id, event_type: 'gone.now', last_status_code: 410 });
    const epNow = (await h.request<{ enabled: boolean; disabled_reason: string }>('GET', `/v1/endpoints/${gone.id}`)).body;
    expect(epNow.enabled).toBe(false);
    expect(epNow.disabled_reason).toMatch(/410/);
    expect(watcher.id).toBeTruthy();
  });

  it('honours Retry-After on a 429 (seconds and HTTP date)', async () => {
    const h = herald();
    await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/busy`, events: ['busy.*'], retry: { schedule_s: [60, 60] } });
    let calls = 0;
    rx.reply((r) => {
      if (r.path !== '/busy') return { status: 200 };
      calls++;
      if (calls === 1) return { status: 429, headers: { 'retry-after': '1' } };
      if (calls === 2) return { status: 429, headers: { 'retry-after': new Date(Date.now() + 1000).toUTCString() } };
      return { status: 200 };
    });
    const ev = await postEvent(h, { type: 'busy.job' });
    const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'succeeded', 15_000);
    expect(d.attempts.map((a) => a.status_code)).toEqual([429, 429, 200]);
    const hits = rx.received.filter((r) => r.path === '/busy');
    // retried after about the hinted second, not after the 60 s schedule
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(900);
    expect(hits[1]!.at - hits[0]!.at).toBeLessThan(5000);
    expect(hits[2]!.at - hits[1]!.at).toBeLessThan(5000);
  });

  it('records a timeout, a refused connection, and does not follow redirects', async () => {
    const h = herald();
    rx.reply((r) => {
      if (r.path === '/slow') return { status: 200, delayMs: 3000 };
      if (r.path === '/moved') return { status: 302, headers: { location: `${rx.url}/elsewhere` } };
      return { status: 200 };
    });
    const closed = await startReceiver();
    const closedUrl = closed.url;
    await closed.close();
    await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/slow`, events: ['t.slow'], timeout_ms: 300, retry: { schedule_s: [] } });
    await createEndpoint(h, { channel: 'webhook', url: `${closedUrl}/none`, events: ['t.refused'], retry: { schedule_s: [] } });
    await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/moved`, events: ['t.moved'], retry: { schedule_s: [5] } });
    const [slow, refused, moved] = await Promise.all([postEvent(h, { type: 't.slow' }), postEvent(h, { type: 't.refused' }), postEvent(h, { type: 't.moved' })]);
    const ds = await waitForDelivery(h, slow.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(ds.attempts[0]).toMatchObject({ outcome: 'timeout' });
    expect(ds.attempts[0]!.duration_ms!).toBeLessThan(2500);
    const dr = await waitForDelivery(h, refused.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(dr.attempts[0]).toMatchObject({ outcome: 'network_error' });
    expect(dr.attempts[0]!.error).toMatch(/ECONNREFUSED/);
    // a 3xx is a permanent failure: dead after one attempt, even with retries left, and never followed
    const dm = await waitForDelivery(h, moved.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(dm.attempts).toHaveLength(1);
    expect(dm.attempts[0]).toMatchObject({ outcome: 'http_error', status_code: 302 });
    expect(rx.received.some((r) => r.path === '/elsewhere')).toBe(false);
  });

  it('reads a 5 MiB response only up to the cap and keeps 4 KiB of it', async () => {
    const h = herald();
    rx.reply((r) => (r.path === '/huge' ? { status: 500, body: Buffer.alloc(5 * 1024 * 1024, 'x') } : { status: 200 }));
    await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/huge`, events: ['t.huge'], retry: { schedule_s: [] } });
    const ev = await postEvent(h, { type: 't.huge' });
    const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(d.attempts[0]!.status_code).toBe(500);
    expect(d.attempts[0]!.response_body).toHaveLength(4096);
  });

  it('signs with both secrets during rotation, then only with the new one', async () => {
    const h = herald();
    rx.reply({ status: 200 });
    const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/rot`, events: ['rot.*'] });
    const rotated = (await h.request<{ secret: string }>('POST', `/v1/endpoints/${ep.id}/rotate-secret`, { body: { grace_s: 3600 } })).body;
    expect(rotated.secret).not.toBe(ep.secret);
    const ev = await postEvent(h, { type: 'rot.a' });
    await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'succeeded');
    const hit = rx.received.find((r) => r.headers['webhook-id'] === ev.deliveries[0]!.id)!;
    expect((hit.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const secret of [ep.secret!, rotated.secret]) {
      expect(() => new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();
    }
    // grace 0: the old secret stops signing at once
    const again = (await h.request<{ secret: string }>('POST', `/v1/endpoints/${ep.id}/rotate-secret`, { body: { grace_s: 0 } })).body;
    const ev2 = await postEvent(h, { type: 'rot.b' });
    await waitForDelivery(h, ev2.deliveries[0]!.id, (x) => x.status === 'succeeded');
    const hit2 = rx.received.find((r) => r.headers['webhook-id'] === ev2.deliveries[0]!.id)!;
    expect((hit2.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(() => new Webhook(again.secret).verify(hit2.body, hit2.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(rotated.secret).verify(hit2.body, hit2.headers as Record<string, string>)).toThrow();
  });

  it('sends a herald.test event to one endpoint only', async () => {
    const h = herald();
    rx.reply({ status: 200 });
    const ep = await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/test-target`, events: ['nothing.matches.this'] });
    const r = await h.request<{ id: string; deliveries: Array<{ id: string; endpoint_id: string }> }>('POST', `/v1/endpoints/${ep.id}/test`);
    expect(r.status).toBe(202);
    expect(r.body.deliveries.map((d) => d.endpoint_id)).toEqual([ep.id]);
    await waitForDelivery(h, r.body.deliveries[0]!.id, (x) => x.status === 'succeeded');
    const hit = rx.received.find((x) => x.path === '/test-target')!;
    expect(JSON.parse(hit.body)).toMatchObject({ type: 'herald.test', data: { endpoint_id: ep.id } });
  });

  it('the ledger still verifies after all of the above', async () => {
    const h = herald();
    const v = await h.request<{ ok: boolean }>('GET', '/v1/ledger/verify');
    expect(v.body.ok).toBe(true);
    const kinds = new Set((await ledgerEntries(h)).map((e) => e.kind));
    for (const k of ['attempts.leased', 'attempt.recorded', 'endpoint.disabled', 'endpoint.secret_rotated']) expect(kinds).toContain(k);
    expect(getDelivery).toBeTypeOf('function');
  });
});

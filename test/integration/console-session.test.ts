// Console sessions over plain HTTP: a session ends when its key does (revoked, or HERALD_ADMIN_KEY
// changed), and odd input to the sign-in and the forms gets a page, never a 500.
import { afterEach, describe, expect, it } from 'vitest';
import { type TestHerald, startTestHerald, trackFailures } from '../support/herald.js';

let h: TestHerald | undefined;
const failures = trackFailures();
afterEach(async () => {
  await h?.stop();
  if (!failures.failed) h?.cleanup();
  h = undefined;
});

async function signIn(herald: TestHerald, key: string, next = '/console'): Promise<{ status: number; cookie: string | null; location: string | null }> {
  const res = await fetch(`${herald.url}/console/login`, { method: 'POST', redirect: 'manual', headers: { origin: herald.url }, body: new URLSearchParams({ key, next }) });
  return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? null, location: res.headers.get('location') };
}

const page = (herald: TestHerald, path: string, cookie: string) => fetch(`${herald.url}${path}`, { redirect: 'manual', headers: { cookie } });

describe('console sessions', () => {
  it('end when the key is revoked, or when HERALD_ADMIN_KEY changes', async () => {
    h = await startTestHerald();
    const created = await h.request<{ id: string; key: string }>('POST', '/v1/keys', { body: { name: 'auditor', role: 'read' } });
    const reader = await signIn(h, created.body.key);
    expect(reader.status).toBe(303);
    expect((await page(h, '/console', reader.cookie!)).status).toBe(200);
    await h.request('DELETE', `/v1/keys/${created.body.id}`);
    const after = await page(h, '/console', reader.cookie!);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/console\/login/);

    const admin = await signIn(h, h.adminKey);
    expect((await page(h, '/console/endpoints', admin.cookie!)).status).toBe(200);
    h = await h.restart({ HERALD_ADMIN_KEY: `test_admin_other_${Date.now()}` });
    expect((await page(h, '/console/endpoints', admin.cookie!)).status).toBe(303);
  });

  it('refuses an ingest key and an unknown key, and only ever sends you on to a console page', async () => {
    h = await startTestHerald();
    const ingestKey = await h.createKey('ingest');
    expect((await signIn(h, ingestKey)).status).toBe(403);
    expect((await signIn(h, 'hk_not_a_key')).status).toBe(401);
    expect((await signIn(h, h.adminKey, 'https://evil.example/')).location).toBe('/console');
    expect((await signIn(h, h.adminKey, '//evil.example/console')).location).toBe('/console');
    expect((await signIn(h, h.adminKey, '/console/x\r\nSet-Cookie: a=b')).location).toBe('/console');
    expect((await signIn(h, h.adminKey, '/console/deliveries?status=dead')).location).toBe('/console/deliveries?status=dead');
  });

  it('answers odd input with a page, not a 500', async () => {
    h = await startTestHerald();
    const { cookie } = await signIn(h, h.adminKey);
    const csrf = /"x-csrf-token":"([^"]+)"/.exec((await (await page(h, '/console', cookie!)).text()).replace(/&quot;/g, '"'))![1]!;
    expect((await page(h, '/console/deliveries?since=never', cookie!)).status).toBe(400);
    expect((await page(h, '/console/deliveries?status=lost', cookie!)).status).toBe(400);
    expect((await page(h, '/console/deliveries/msg_nope', cookie!)).status).toBe(404);
    expect((await page(h, '/console/ledger?before=abc', cookie!)).status).toBe(200);
    expect((await page(h, '/console/ledger/export?after=-1', cookie!)).status).toBe(400);
    const ep = await h.request<{ id: string }>('POST', '/v1/endpoints', { body: { channel: 'webhook', url: 'https://example.com/h', events: ['*'] } });
    const post = (path: string, body: BodyInit) => fetch(`${h!.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: cookie!, origin: h!.url }, body });
    expect((await post(`/console/endpoints/${ep.body.id}/recover`, new URLSearchParams({ _csrf: csrf, since: new Date(Date.now() - 3600_000).toISOString().slice(0, 16), tz: 'Mars/Olympus' }))).status).toBe(303);
    expect((await post(`/console/endpoints/${ep.body.id}/recover`, new URLSearchParams({ _csrf: csrf, since: '+275760-09-14T00:00' }))).status).toBe(400);
    const multipart = new FormData();
    multipart.set('_csrf', csrf);
    multipart.set('events', new Blob(['*']), 'events.txt');
    multipart.set('url', 'https://example.com/x');
    expect((await post('/console/endpoints', multipart)).status).toBe(422);
  });
});

import { test } from 'vitest';
import { startTestHerald } from '../support/herald.js';
test('smoke', async () => {
  const h = await startTestHerald();
  const login = await fetch(`${h.url}/console/login`);
  console.log(login.status, (await login.text()).slice(0, 300));
  const r = await fetch(`${h.url}/console/login`, { method: 'POST', body: new URLSearchParams({ key: h.adminKey, next: '/console' }), redirect: 'manual', headers: { origin: h.url } });
  console.log(r.status, r.headers.get('set-cookie'), r.headers.get('location'));
  const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
  for (const p of ['/console', '/console/events', '/console/deliveries', '/console/endpoints', '/console/ledger', '/console/ledger/verify', '/console/endpoints/new', '/console/static/htmx.min.js']) {
    const res = await fetch(`${h.url}${p}`, { headers: { cookie } });
    const t = await res.text();
    console.log(p, res.status, t.length, res.status !== 200 ? t.slice(0, 500) : '');
  }
  await h.stop();
}, 30000);

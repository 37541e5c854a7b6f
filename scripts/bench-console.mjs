#!/usr/bin/env node
// Console benchmark (`npm run bench:console`): how fast the console's pages answer with a large store.
//   1. herald as a child process on a temp database; BENCH_DELIVERIES deliveries (1,000,000 by default)
//      made through POST /v1/events/batch: events of five job types, each matching four webhook
//      endpoints. Two endpoints take every event and are rate limited to a trickle (their deliveries
//      stay queued); the other two take one user's events (1 in 17) and go to a loopback receiver that
//      answers 200, or 500 to job.failed (retry: none, so those go dead).
//   2. signs in to the console and asks each page BENCH_REQUESTS times (one at a time, after a
//      warm-up), printing p50 / p99 / max per page.
// Timings are printed, never asserted. BENCH_DIR=<dir> keeps the database there and reuses it on the
// next run (the slow part is making it).
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHeraldProcess } from './bench-support.mjs';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const ENDPOINTS = 4;
const TYPES = ['job.submitted', 'job.started', 'job.completed', 'job.failed', 'job.timed_out'];

const keepDir = process.env.BENCH_DIR;
const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'herald-bench-console-'));
mkdirSync(dir, { recursive: true });
const statePath = join(dir, 'bench.json');
const reuse = keepDir && existsSync(statePath);
const state = reuse ? JSON.parse(readFileSync(statePath, 'utf8')) : { adminKey: `bench_admin_${randomBytes(18).toString('base64url')}`, encryptionKey: randomBytes(32).toString('base64') };

const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.writeHead(body.includes('"job.failed"') ? 500 : 200).end('{}');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

const herald = await startHeraldProcess(dir, { env: { HERALD_ADMIN_KEY: state.adminKey, HERALD_ENCRYPTION_KEY: state.encryptionKey } });
const api = async (method, path, body) => {
  const res = await fetch(`${herald.url}${path}`, { method, headers: { authorization: `Bearer ${state.adminKey}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
};

try {
  if (!reuse) {
    const t0 = performance.now();
    for (let i = 0; i < ENDPOINTS; i++) {
      const live = i >= 2;
      await api('POST', '/v1/endpoints', {
        channel: 'webhook', url: live ? `${receiverUrl}/hook-${i}` : `${receiverUrl}/queued-${i}`, description: `bench endpoint ${i}`,
        // The live ones match one user's events (one in 17); the others queue everything.
        events: ['job.*'], ...(live ? { users: ['user-0'], retry: { schedule_s: [] } } : { rate_limit: { per_second: 0.001 } }),
      });
    }
    const events = Math.ceil(DELIVERIES / (2 + 2 / 17));
    for (let done = 0; done < events; done += 1000) {
      const batch = Array.from({ length: Math.min(1000, events - done) }, (_, k) => {
        const i = done + k;
        return { idempotency_key: `bench-${i}`, type: TYPES[i % TYPES.length], subject: `job-${i % 50}`, user: `user-${i % 17}`, data: { job_id: `job-${i}`, queue: 'gpu', exit_code: i % 7 } };
      });
      await api('POST', '/v1/events/batch', { events: batch });
      if (done % 50_000 === 0) process.stdout.write(`  ${done.toLocaleString('en-US')} events…\n`);
    }
    console.log(`made ${events.toLocaleString('en-US')} events (${Math.round(events * (2 + 2 / 17)).toLocaleString('en-US')} deliveries) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    writeFileSync(statePath, JSON.stringify(state));
  }

  if (reuse) {
    // This run's receiver listens on another port: point the endpoints at it, and enable them again.
    for (const e of (await api('GET', '/v1/endpoints?limit=10')).data) {
      await api('PATCH', `/v1/endpoints/${e.id}`, { url: `${receiverUrl}/${new URL(e.url).pathname.slice(1)}` });
      if (!e.enabled) await api('POST', `/v1/endpoints/${e.id}/enable`, {});
    }
  }
  // Measure a settled herald: wait (up to two minutes) until the live endpoints' deliveries are made.
  const settleBy = Date.now() + 120_000;
  for (const e of (await api('GET', '/v1/endpoints?limit=10')).data.filter((x) => !x.rate_limit)) {
    while (Date.now() < settleBy && (await api('GET', `/v1/deliveries?endpoint_id=${e.id}&status=pending&limit=1`)).data.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }

  // Sign in as a browser would, and keep the session cookie.
  const login = await fetch(`${herald.url}/console/login`, { method: 'POST', redirect: 'manual', headers: { origin: herald.url }, body: new URLSearchParams({ key: state.adminKey, next: '/console' }) });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`sign-in failed: ${login.status}`);

  const endpoints = (await api('GET', '/v1/endpoints?limit=10')).data;
  const queued = endpoints.find((e) => e.description === 'bench endpoint 0');
  const live = endpoints.find((e) => e.description === 'bench endpoint 3');
  const someDelivery = (await api('GET', `/v1/deliveries?endpoint_id=${live.id}&limit=1`)).data[0];
  const deep = await api('GET', `/v1/deliveries?limit=500`);
  // A minute in the middle of the store's history: newer rows have to be stepped over to reach it.
  const head = (await api('GET', '/v1/ledger/verify')).entries;
  const middle = new Date((await api('GET', `/v1/ledger?after=${Math.floor(head / 2)}&limit=1`)).data[0].at);
  const minute = (t) => encodeURIComponent(new Date(t).toISOString());
  const pages = [
    ['overview', '/console'],
    ['deliveries', '/console/deliveries'],
    ['deliveries, next page', `/console/deliveries?cursor=${encodeURIComponent(deep.next_cursor)}`],
    ['deliveries: pending to one endpoint', `/console/deliveries?status=pending&endpoint_id=${queued.id}`],
    ['deliveries: dead (few)', '/console/deliveries?status=dead'],
    ['deliveries: job.failed', '/console/deliveries?type=job.failed'],
    ['deliveries: last hour', `/console/deliveries?since=${minute(Date.now() - 3600_000)}`],
    ['deliveries: one minute, mid-history', `/console/deliveries?since=${minute(middle)}&until=${minute(middle.getTime() + 60_000)}`],
    ['a delivery', `/console/deliveries/${someDelivery.id}`],
    ['events', '/console/events'],
    ['events: job.failed by user-3', '/console/events?type=job.failed&user=user-3'],
    ['endpoints', '/console/endpoints'],
    ['an endpoint', `/console/endpoints/${queued.id}`],
    ['ledger', '/console/ledger'],
  ];
  console.log(`\nCONSOLE PAGES: ${REQUESTS} requests each, one at a time (after 5 to warm up)`);
  console.log('  page'.padEnd(42) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'max ms'.padStart(9) + '  bytes');
  for (const [name, path] of pages) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS + 5; i++) {
      const t = performance.now();
      const res = await fetch(`${herald.url}${path}`, { headers: { cookie } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
      if (i >= 5) times.push(performance.now() - t);
      bytes = text.length;
    }
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
    console.log(`  ${name}`.padEnd(42) + q(0.5).toFixed(1).padStart(9) + q(0.99).toFixed(1).padStart(9) + times.at(-1).toFixed(1).padStart(9) + `  ${bytes}`);
  }
} finally {
  await herald.stop();
  receiver.close();
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
}

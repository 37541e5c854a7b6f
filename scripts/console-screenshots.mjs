#!/usr/bin/env node
// Screenshots of the console for the README (`npm run screenshots`): herald from dist/ on a temp
// database, a loopback receiver that fails now and then, a few minutes' worth of job events, then
// Chromium (Debian's, through playwright-core) photographs the overview, a delivery and the endpoints
// at 1280 px into docs/.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { ROOT, startHeraldProcess } from './bench-support.mjs';

let n = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(++n % 5 === 0 ? 503 : 200).end('{"ok":true}'));
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${receiver.address().port}`;

const dir = mkdtempSync(join(tmpdir(), 'herald-screenshots-'));
const herald = await startHeraldProcess(dir);
const api = async (method, path, body) => {
  const res = await fetch(`${herald.url}${path}`, { method, headers: { authorization: `Bearer ${herald.adminKey}`, 'content-type': 'application/json', 'idempotency-key': `shot-${Math.random()}` }, body: body && JSON.stringify(body) });
  return res.json();
};
const browser = await chromium.launch({ executablePath: process.env.HERALD_TEST_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  await api('POST', '/v1/endpoints', { channel: 'webhook', url: `${target}/ci`, events: ['job.*'], description: 'CI dashboard', retry: { schedule_s: [1, 2] } });
  await api('POST', '/v1/endpoints', { channel: 'webhook', url: `${target}/pager`, events: ['job.failed', 'job.timed_out'], description: 'on-call pager', retry: { schedule_s: [1] } });
  const down = await api('POST', '/v1/endpoints', { channel: 'webhook', url: 'http://127.0.0.1:9/offline', events: ['job.completed'], description: 'legacy tracker (offline)', retry: { schedule_s: [] } });
  const types = ['job.submitted', 'job.started', 'job.completed', 'job.completed', 'job.failed', 'job.timed_out'];
  for (let i = 0; i < 240; i++) {
    await api('POST', '/v1/events', { type: types[i % types.length], subject: `train-${1000 + (i >> 2)}`, user: ['alice', 'bob', 'carol'][i % 3], data: { job_id: `train-${1000 + (i >> 2)}`, queue: 'gpu-a100', exit_code: i % 6 === 4 ? 137 : 0, runtime_s: 3000 + i } });
    if (i % 40 === 0) await sleep(200);
  }
  await sleep(4000);
  const dead = await api('GET', `/v1/deliveries?endpoint_id=${down.id}&status=dead&limit=1`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${herald.url}/console/login`);
  await page.getByLabel('API key').fill(herald.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('.chart canvas');
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'docs/console-overview.png'), fullPage: true });
  const shown = (await api('GET', '/v1/deliveries?status=succeeded&limit=50')).data.find((d) => d.attempt_count > 1) ?? dead.data[0];
  await page.goto(`${herald.url}/console/deliveries/${shown.id}`);
  await page.screenshot({ path: join(ROOT, 'docs/console-delivery.png'), fullPage: true });
  await page.goto(`${herald.url}/console/endpoints`);
  await page.screenshot({ path: join(ROOT, 'docs/console-endpoints.png'), fullPage: true });
  console.log('wrote docs/console-overview.png, docs/console-delivery.png, docs/console-endpoints.png');
} finally {
  await browser.close();
  await herald.stop();
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}

/// <reference lib="dom" />
// The console in a real headless Chromium against a real herald (its SQLite file, real receivers):
// what an operator and an auditor do, what a read key may not do, and forged posts refused.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, seriousViolations, signIn } from '../support/browser.js';
import { createEndpoint, type Endpoint, ledgerEntries, postEvent, waitForDelivery } from '../support/deliveries.js';
import { type TestHerald, startTestHerald, trackFailures } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';

let h: TestHerald;
let browser: Browser;
let ok: Receiver;
let flaky: Receiver;
let okEndpoint: Endpoint;
let flakyEndpoint: Endpoint;
let readKey: string;
let deadIds: string[];
const failures = trackFailures();

async function newKey(role: string): Promise<string> {
  const r = await h.request<{ key: string }>('POST', '/v1/keys', { body: { name: `${role} person`, role } });
  expect(r.status).toBe(201);
  return r.body.key;
}

async function session(key: string, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await signIn(page, h.url, key);
  return { context, page };
}

beforeAll(async () => {
  [h, browser, ok, flaky] = await Promise.all([startTestHerald(), launchBrowser(), startReceiver({ status: 200 }), startReceiver({ status: 500, body: 'boom' })]);
  okEndpoint = await createEndpoint(h, { channel: 'webhook', url: `${ok.url}/hook`, events: ['job.*'], description: 'jobs board' });
  flakyEndpoint = await createEndpoint(h, { channel: 'webhook', url: `${flaky.url}/hook`, events: ['job.failed'], description: 'flaky pager', retry: { schedule_s: [] } });
  readKey = await newKey('read');
  deadIds = [];
  for (let i = 0; i < 3; i++) {
    const answer = await postEvent(h, { type: 'job.failed', subject: `job-${i}`, data: { job_id: `job-${i}`, exit_code: 1 } });
    deadIds.push(answer.deliveries.find((d) => d.endpoint_id === flakyEndpoint.id)!.id);
  }
  for (const id of deadIds) await waitForDelivery(h, id, (d) => d.status === 'dead');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([ok?.close(), flaky?.close()]);
  await h?.stop();
  if (!failures.failed) h?.cleanup();
});

describe('console', () => {
  it('signs in, shows the overview, and passes the accessibility check', async () => {
    const { context, page } = await session(h.adminKey);
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' }).isVisible()).resolves.toBe(true);
    await page.waitForSelector('.chart canvas'); // uPlot drew the chart
    expect(await page.locator('main').innerText()).toContain('flaky pager'); // failing endpoint listed
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('filters deliveries, opens one, redelivers it and shows the new attempt', async () => {
    const { context, page } = await session(h.adminKey);
    await page.goto(`${h.url}/console/deliveries`);
    await page.getByLabel('Status').selectOption('dead');
    await page.getByLabel('Endpoint id').fill(flakyEndpoint.id);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=dead/);
    expect(new URL(page.url()).searchParams.get('endpoint_id')).toBe(flakyEndpoint.id);
    const ids = await page.locator('tbody a.mono').allInnerTexts();
    expect(ids.sort()).toEqual([...deadIds].sort());
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('link', { name: deadIds[0]! }).click();
    await page.waitForURL(new RegExp(`/console/deliveries/${deadIds[0]}$`));
    expect(await page.locator('#attempts').innerText()).toContain('Attempt 1');
    flaky.reply({ status: 200 });
    await page.getByLabel('Reason (recorded in the ledger)').fill('receiver fixed');
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.waitForURL(/done=redelivered/);
    // The timeline refreshes itself until the new attempt is there.
    await page.locator('#attempts', { hasText: 'Attempt 2' }).waitFor({ timeout: 15_000 });
    await page.locator('#attempts .s-succeeded').first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    const requeued = (await ledgerEntries(h)).filter((e) => e.kind === 'deliveries.requeued');
    expect(requeued.at(-1)).toMatchObject({ actor: 'admin (HERALD_ADMIN_KEY)', body: { delivery_ids: [deadIds[0]], reason: 'receiver fixed' } });
    flaky.reply({ status: 500 });
    await context.close();
  });

  it('retries all matching deliveries as a background job, after confirming how many', async () => {
    const { context, page } = await session(h.adminKey);
    flaky.reply({ status: 200 });
    await page.goto(`${h.url}/console/deliveries?status=dead&endpoint_id=${flakyEndpoint.id}`);
    await page.getByRole('link', { name: 'Retry all matching…' }).click();
    const api = await h.request<{ count: number }>('GET', `/v1/deliveries/count?status=dead&endpoint_id=${flakyEndpoint.id}`);
    expect(api.body.count).toBe(2); // the third was redelivered above
    expect(await page.locator('#requeue-count').innerText()).toContain('This will requeue 2 deliveries');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Reason (recorded in the ledger)').fill('pager back up');
    await page.getByRole('button', { name: 'Requeue 2 deliveries' }).click();
    await page.waitForURL(/\/console\/jobs\/job_/);
    await page.locator('#job', { hasText: '2 of 2 requeued' }).waitFor({ timeout: 15_000 });
    await page.locator('#job .s-finished').waitFor();
    for (const id of deadIds.slice(1)) await waitForDelivery(h, id, (d) => d.status === 'succeeded');
    const started = (await ledgerEntries(h)).filter((e) => e.kind === 'requeue.started');
    expect(started.at(-1)).toMatchObject({ actor: 'admin (HERALD_ADMIN_KEY)', body: { total: 2, reason: 'pager back up', filters: { status: 'dead', endpoint_id: flakyEndpoint.id } } });
    flaky.reply({ status: 500 });
    await context.close();
  });

  it('disables and enables an endpoint, recorded under the key name', async () => {
    const { context, page } = await session(h.adminKey);
    await page.goto(`${h.url}/console/endpoints`);
    await page.getByRole('link', { name: 'jobs board' }).click();
    await page.getByLabel('Reason').fill('maintenance window');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.waitForURL(/done=disabled/);
    expect(await page.locator('.facts').innerText()).toContain('disabled');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.waitForURL(/done=enabled/);
    expect(await page.locator('.facts').innerText()).toContain('enabled');
    const kinds = (await ledgerEntries(h)).filter((e) => e.stream === okEndpoint.id).map((e) => [e.kind, e.actor]);
    expect(kinds.slice(-2)).toEqual([
      ['endpoint.disabled', 'admin (HERALD_ADMIN_KEY)'],
      ['endpoint.enabled', 'admin (HERALD_ADMIN_KEY)'],
    ]);
    await context.close();
  });

  it('verifies the ledger and shows its head hash', async () => {
    const { context, page } = await session(h.adminKey);
    await page.goto(`${h.url}/console/ledger`);
    await page.getByRole('button', { name: 'Verify the ledger now' }).click();
    const result = await page.locator('#verify-result').innerText();
    const api = await h.request<{ ok: boolean; head_hash: string }>('GET', '/v1/ledger/verify');
    expect(result).toContain('The hash chain holds');
    expect(result).toContain(api.body.head_hash);
    expect(await seriousViolations(page)).toEqual([]);
    // The export of a range: entries 2..4, one JSON object per line.
    const exported = await page.request.get(`${h.url}/console/ledger/export?after=1&until=4`);
    expect(exported.headers()['content-type']).toContain('application/x-ndjson');
    expect((await exported.text()).trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([2, 3, 4]);
    await context.close();
  });

  it('shows a read key no actions, and refuses forged posts with 403 writing nothing', async () => {
    const { context, page } = await session(readKey);
    await page.goto(`${h.url}/console/deliveries/${deadIds[1]}`);
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    await page.goto(`${h.url}/console/endpoints/${flakyEndpoint.id}`);
    expect(await page.getByRole('button').filter({ hasText: /Disable|Enable|Send test|Rotate|Reveal/ }).count()).toBe(0);
    const before = (await ledgerEntries(h)).length;

    // A read key with a valid session and CSRF token still may not act.
    const readToken = await page.evaluate(() => JSON.parse(document.body.getAttribute('hx-headers') ?? '{}')['x-csrf-token'] as string);
    const asRead = await page.request.post(`${h.url}/console/deliveries/${deadIds[1]}/redeliver`, { form: { _csrf: readToken, reason: 'x' }, headers: { origin: h.url } });
    expect(asRead.status()).toBe(403);

    // An admin session, but a post without the CSRF token (what another site could forge).
    const admin = await session(h.adminKey);
    const forged = await admin.page.request.post(`${h.url}/console/endpoints/${flakyEndpoint.id}/disable`, { form: { reason: 'forged' }, headers: { origin: h.url } });
    expect(forged.status()).toBe(403);
    const wrongToken = await admin.page.request.post(`${h.url}/console/endpoints/${flakyEndpoint.id}/disable`, { form: { _csrf: readToken, reason: 'forged' }, headers: { origin: h.url } });
    expect(wrongToken.status()).toBe(403);
    const otherOrigin = await admin.page.request.post(`${h.url}/console/endpoints/${flakyEndpoint.id}/disable`, { form: { reason: 'forged' }, headers: { origin: 'https://evil.example' } });
    expect(otherOrigin.status()).toBe(403);
    expect((await ledgerEntries(h)).length).toBe(before);
    await admin.context.close();
    await context.close();
  });

  it('works at phone width without sideways scrolling', async () => {
    const { context, page } = await session(h.adminKey, { width: 390, height: 844 });
    for (const path of ['/console', `/console/deliveries/${deadIds[2]}`, '/console/endpoints', `/console/endpoints/${okEndpoint.id}`, '/console/deliveries', '/console/events', '/console/ledger', '/console/endpoints/new']) {
      await page.goto(`${h.url}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(1);
      expect(await seriousViolations(page), path).toEqual([]);
    }
    await context.close();
  });

  it('creates an endpoint with the API validation messages beside the fields', async () => {
    const { context, page } = await session(h.adminKey);
    await page.goto(`${h.url}/console/endpoints/new`);
    await page.getByLabel('URL (webhook, Slack, Discord)').fill('not a url');
    await page.getByLabel('Events').fill('');
    await page.getByLabel('Description').fill('from the console');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    expect(await page.locator('#f-url-err').innerText()).not.toBe('');
    expect(await page.locator('#f-events-err').innerText()).not.toBe('');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('URL (webhook, Slack, Discord)').fill(`${ok.url}/console-made`);
    await page.getByLabel('Events').fill('job.completed, deploy.*');
    await page.getByLabel('Retry schedule (seconds)').fill('5, 30');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.waitForURL(/done=created/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const api = await h.request<{ events: string[]; retry: unknown; description: string }>('GET', `/v1/endpoints/${id}`);
    expect(api.body).toMatchObject({ events: ['job.completed', 'deploy.*'], retry: { schedule_s: [5, 30] }, description: 'from the console' });
    await context.close();
  });

  it('edits an endpoint, sends it a test, and reveals and rotates its secret (admin)', async () => {
    const { context, page } = await session(h.adminKey);
    await page.goto(`${h.url}/console/endpoints/${okEndpoint.id}/edit`);
    await page.getByLabel('Description').fill('jobs board (edited)');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/done=saved/);
    expect((await h.request<{ description: string; events: string[] }>('GET', `/v1/endpoints/${okEndpoint.id}`)).body).toMatchObject({ description: 'jobs board (edited)', events: ['job.*'] });

    const before = ok.received.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.waitForURL(/done=tested/);
    await waitFor('the test event', () => ok.received.slice(before).find((r) => r.body.includes('"herald.test"')));

    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const first = await page.locator('.flash code').innerText();
    expect(first).toMatch(/^whsec_/);
    expect(first).toBe((await h.request<{ secret: string }>('GET', `/v1/endpoints/${okEndpoint.id}/secret`)).body.secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.waitForURL(/done=rotated/);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    expect(await page.locator('.flash code').innerText()).not.toBe(first);
    const actors = (await ledgerEntries(h)).filter((e) => e.stream === okEndpoint.id && ['endpoint.updated', 'endpoint.secret_rotated'].includes(e.kind)).map((e) => e.actor);
    expect(actors).toEqual(['admin (HERALD_ADMIN_KEY)', 'admin (HERALD_ADMIN_KEY)']);
    await context.close();
  });

  it('finds an event by its idempotency key and shows times in the browser time zone', async () => {
    const key = `console-key-${Date.now()}`;
    const r = await h.request<{ id: string; received_at: string }>('POST', '/v1/events', { body: { type: 'job.completed', data: { job_id: 'j-77' } }, headers: { 'idempotency-key': key } });
    expect(r.status).toBe(202);
    const context = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    await signIn(page, h.url, h.adminKey);
    await page.goto(`${h.url}/console/events`);
    await page.getByLabel('Idempotency key').fill(key);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: r.body.id }).click();
    expect(await page.locator('main pre').first().innerText()).toContain('j-77');
    const time = page.locator('.facts time').last();
    const utc = r.body.received_at.replace('T', ' ').replace(/\.\d+Z$/, '');
    expect(await time.getAttribute('title')).toBe(`${utc} UTC`);
    const shown = await time.innerText();
    const [inTokyo, inUtc] = await page.evaluate((at) => {
      const d = new Date(at);
      return [d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }), d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' })];
    }, r.body.received_at);
    expect(shown).toBe(inTokyo);
    expect(shown).not.toBe(inUtc);
    await context.close();
  });

  it('can be used with the keyboard alone', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/console/login`);
    await page.keyboard.type(h.adminKey); // the key field has focus on arrival
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console$/);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Tab to the Deliveries link and follow it.
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Deliveries'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/deliveries$/);
    await page.getByLabel('Status').focus();
    await page.keyboard.press('End'); // the last status: cancelled
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Filter'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await waitFor('filtered by keyboard', () => /status=cancelled/.test(page.url()) || null);
    await context.close();
  });
});

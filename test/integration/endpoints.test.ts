// /v1/endpoints: create, list, get, patch, archive, enable/disable, rotate-secret and /secret for all
// four channels, with each channel's strict shape and secrets that are never shown back.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpointSchema } from '../../src/http/schemas.js';
import { type EndpointView, createEndpoint, expectProblem, ingest } from '../support/api.js';
import { useHerald } from '../support/herald.js';

const herald = useHerald();
const HOOK = 'http://127.0.0.1:9/hook';
const secretAnswer = z.object({ secret: z.string(), previous: z.array(z.object({ secret: z.string(), expires_at: z.string().nullable() })).optional() });

async function getEndpoint(id: string): Promise<EndpointView> {
  const r = await herald().request('GET', `/v1/endpoints/${id}`);
  expect(r.status).toBe(200);
  return endpointSchema.parse(r.body);
}

async function listIds(query = ''): Promise<string[]> {
  const r = await herald().request<{ data: unknown[] }>('GET', `/v1/endpoints?limit=500${query}`);
  expect(r.status).toBe(200);
  return r.body.data.map((e) => endpointSchema.parse(e).id);
}

describe('creating endpoints', () => {
  it('a webhook with every field of the spec; the secret is returned once, header values never', async () => {
    const h = herald();
    const body = {
      channel: 'webhook',
      url: HOOK,
      events: ['job.*', 'delivery.exhausted'],
      users: ['alice'],
      subject: 'job-42',
      headers: { Authorization: 'Bearer t0p-s3cret', 'X-Team': 'ml' },
      timeout_ms: 10000,
      retry: { schedule_s: [5, 30, 120] },
      template: { body: '{"t":"{{event.type}}"}' },
      description: 'CI hook',
      enabled: true,
    };
    const r = await h.request('POST', '/v1/endpoints', { body });
    expect(r.status).toBe(201);
    const ep = endpointSchema.parse(r.body);
    expect(ep).toMatchObject({
      channel: 'webhook',
      url: HOOK,
      events: ['job.*', 'delivery.exhausted'],
      users: ['alice'],
      subject: 'job-42',
      timeout_ms: 10000,
      retry: { schedule_s: [5, 30, 120] },
      template: { body: '{"t":"{{event.type}}"}' },
      description: 'CI hook',
      enabled: true,
      archived_at: null,
      health: { failing_since: null, consecutive_dead: 0 },
    });
    expect(ep.id).toMatch(/^ep_/);
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(ep.secret!.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(Object.keys(ep.headers ?? {}).sort()).toEqual(['Authorization', 'X-Team']);
    expect(JSON.stringify(r.body)).not.toContain('t0p-s3cret');

    const got = await getEndpoint(ep.id);
    expect(got.secret).toBeUndefined();
    expect(JSON.stringify(got)).not.toContain('t0p-s3cret');
    expect(JSON.stringify(got)).not.toContain(ep.secret!);
    expect(Object.keys(got.headers ?? {}).sort()).toEqual(['Authorization', 'X-Team']);

    const secret = await h.request('GET', `/v1/endpoints/${ep.id}/secret`);
    expect(secret.status).toBe(200);
    expect(secretAnswer.parse(secret.body)).toEqual({ secret: ep.secret });
  });

  it('a webhook may bring its own valid secret; an invalid one is a 422', async () => {
    const own = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const ep = await createEndpoint(herald(), { channel: 'webhook', url: HOOK, events: ['*'], secret: own });
    expect(ep.secret).toBe(own);
    expectProblem(await herald().request('POST', '/v1/endpoints', { body: { channel: 'webhook', url: HOOK, events: ['*'], secret: 'whsec_short' } }), 422);
  });

  it('an email endpoint needs `to`; the SMTP password is masked and there is no signing secret', async () => {
    const h = herald();
    const ep = await createEndpoint(h, {
      channel: 'email',
      to: ['ops@example.com', 'ml@example.com'],
      from: 'herald <herald@example.com>',
      smtp_url: 'smtps://mailer:pa55w0rd-mail@smtp.example.com:465',
      events: ['job_failed', 'job.*'],
      template: { subject: '{{event.type}}', text: 't', html: '<b>{{event.subject}}</b>' },
      retry: { max_attempts: 5, base_s: 10, max_s: 600 },
    });
    expect(ep).toMatchObject({ channel: 'email', to: ['ops@example.com', 'ml@example.com'], from: 'herald <herald@example.com>', retry: { max_attempts: 5, base_s: 10, max_s: 600 } });
    expect(ep.secret).toBeUndefined();
    expect(ep.smtp_url).toBe('smtps://mailer:***@smtp.example.com:465');
    expect(JSON.stringify(await getEndpoint(ep.id))).not.toContain('pa55w0rd-mail');
    expectProblem(await h.request('GET', `/v1/endpoints/${ep.id}/secret`), 404, 'not-found');

    expectProblem(await h.request('POST', '/v1/endpoints', { body: { channel: 'email', events: ['*'] } }), 422, 'validation');
    expectProblem(await h.request('POST', '/v1/endpoints', { body: { channel: 'email', to: [], events: ['*'] } }), 422, 'validation');
    expectProblem(await h.request('POST', '/v1/endpoints', { body: { channel: 'email', to: ['not an address'], events: ['*'] } }), 422, 'validation');
    expectProblem(await h.request('POST', '/v1/endpoints', { body: { channel: 'email', to: ['a@example.com'], events: ['*'], smtp_url: 'http://x' } }), 422, 'validation');
  });

  it('slack and discord endpoints take a URL and a text template', async () => {
    for (const channel of ['slack', 'discord'] as const) {
      const ep = await createEndpoint(herald(), { channel, url: `${HOOK}/${channel}`, events: ['*'], template: { text: '{{event.type}} finished' }, description: channel });
      expect(ep).toMatchObject({ channel, url: `${HOOK}/${channel}`, template: { text: '{{event.type}} finished' }, enabled: true });
      expect(ep.secret).toBeUndefined();
      expect((await getEndpoint(ep.id)).channel).toBe(channel);
    }
  });

  it('refuses what does not belong to the channel or is not valid (422, with the field named)', async () => {
    const h = herald();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ channel: 'webhook', url: 'ftp://127.0.0.1/x', events: ['*'] }, 'url'],
      [{ channel: 'webhook', url: 'not a url', events: ['*'] }, 'url'],
      [{ channel: 'webhook', events: ['*'] }, 'url'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], to: ['a@example.com'] }, ''],
      [{ channel: 'webhook', url: HOOK, events: ['*'], headers: { 'X-A': 'a\r\nInjected: 1' } }, 'headers.X-A'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], headers: { 'X-A': 'line\nbreak' } }, 'headers.X-A'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], headers: { 'Content-Type': 'text/plain' } }, 'headers.Content-Type'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], headers: { 'webhook-signature': 'v1,x' } }, 'headers.webhook-signature'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], headers: { 'Bad Name': 'x' } }, 'headers.Bad Name'],
      [{ channel: 'slack', url: HOOK, events: ['*'], headers: { 'X-A': 'a' } }, ''],
      [{ channel: 'discord', url: HOOK, events: ['*'], secret: 'whsec_x' }, ''],
      [{ channel: 'email', to: ['a@example.com'], events: ['*'], url: HOOK }, ''],
      [{ channel: 'email', to: ['a@example.com'], events: ['*'], from: 'x <h@example.com>\r\nBcc: y@evil.example' }, 'from'],
      [{ channel: 'email', to: ['a@example.com'], events: ['*'], from: 'a@example.com, b@example.com' }, 'from'],
      [{ channel: 'email', to: ['a@example.com'], events: ['*'], from: 'undisclosed: a@example.com;' }, 'from'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], rate_limit: { per_second: -1 } }, 'rate_limit.per_second'],
      [{ channel: 'slack', url: HOOK, events: ['*'], template: { html: '<b>' } }, 'template'],
      [{ channel: 'webhook', url: HOOK, events: [] }, 'events'],
      [{ channel: 'webhook', url: HOOK, events: ['*.job'] }, 'events.0'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], timeout_ms: 5 }, 'timeout_ms'],
      [{ channel: 'webhook', url: HOOK, events: ['*'], retry: { schedule_s: [1], max_attempts: 3 } }, 'retry'],
      [{ channel: 'sms', url: HOOK, events: ['*'] }, 'channel'],
      [{ url: HOOK, events: ['*'] }, 'channel'],
    ];
    for (const [body, path] of cases) {
      const p = expectProblem(await h.request('POST', '/v1/endpoints', { body }), 422, 'validation');
      expect(p.errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
      if (path) expect(p.errors!.some((e) => e.path.startsWith(path)), `${JSON.stringify(body)} → ${JSON.stringify(p.errors)}`).toBe(true);
    }
  });
});

describe('values that cannot be recorded', () => {
  it('a lone surrogate, 1e400 or hostile nesting in any write body is a 422, never a 500', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'] });
    const cases: Array<[string, string, string]> = [
      ['POST', '/v1/endpoints', `{"channel":"webhook","url":"${HOOK}","events":["*"],"description":"\\ud800"}`],
      ['POST', '/v1/endpoints', `{"channel":"webhook","url":"${HOOK}","events":["*"],"template":{"body":"x\\udc00"}}`],
      ['POST', '/v1/endpoints', `{"channel":"webhook","url":"${HOOK}","events":["*"],"retry":{"schedule_s":[1e400]}}`],
      ['POST', '/v1/endpoints', `{"channel":"webhook","url":"${HOOK}","events":["*"],"description":${'['.repeat(100)}${']'.repeat(100)}}`],
      ['PATCH', `/v1/endpoints/${ep.id}`, '{"description":"\\ud800"}'],
      ['PATCH', `/v1/endpoints/${ep.id}`, '{"headers":{"X-A":"\\udfff"}}'],
      ['POST', `/v1/endpoints/${ep.id}/disable`, '{"reason":"\\ud800"}'],
      ['POST', `/v1/endpoints/${ep.id}/rotate-secret`, '{"secret":"\\ud800"}'],
      ['POST', '/v1/keys', '{"name":"\\ud800","role":"read"}'],
      ['POST', '/v1/keys', '{"name":"x","role":"read","n":1e400}'],
    ];
    for (const [method, path, body] of cases) {
      expectProblem(await h.request(method, path, { body }), 422, 'validation');
    }
    // nothing was changed by them
    expect(await getEndpoint(ep.id)).toMatchObject({ description: null, enabled: true });
    expect((await h.request('GET', '/v1/ledger/verify')).body).toMatchObject({ ok: true });
  });
});

describe('changing endpoints', () => {
  it('PATCH changes fields of the channel, null clears an optional one, other fields are a 422', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['job.*'], description: 'before', headers: { 'X-Old': 'old-value' } });
    const r = await h.request('PATCH', `/v1/endpoints/${ep.id}`, {
      body: { events: ['run.*', 'job.failed'], description: null, headers: { 'X-New': 'n3w-header-value' }, timeout_ms: 2000 },
    });
    expect(r.status).toBe(200);
    const patched = endpointSchema.parse(r.body);
    expect(patched).toMatchObject({ events: ['run.*', 'job.failed'], description: null, timeout_ms: 2000, url: HOOK });
    expect(patched.headers).toEqual({ 'X-New': '[redacted]' });
    expect(JSON.stringify(patched)).not.toContain('n3w-header-value');
    expect(await getEndpoint(ep.id)).toEqual(patched);
    expect(patched.updated_at >= ep.updated_at).toBe(true);

    for (const body of [{ channel: 'slack' }, { to: ['a@example.com'] }, { secret: ep.secret }, { url: 'gopher://x' }, { headers: { 'X-A': 'a\rb' } }, { events: [] }]) {
      expectProblem(await h.request('PATCH', `/v1/endpoints/${ep.id}`, { body }), 422, 'validation');
    }
    const email = await createEndpoint(h, { channel: 'email', to: ['a@example.com'], events: ['*'] });
    expect(endpointSchema.parse((await h.request('PATCH', `/v1/endpoints/${email.id}`, { body: { to: ['b@example.com'] } })).body).to).toEqual(['b@example.com']);
    expectProblem(await h.request('PATCH', `/v1/endpoints/${email.id}`, { body: { url: HOOK } }), 422, 'validation');
    expectProblem(await h.request('PATCH', `/v1/endpoints/${email.id}`, { body: { to: null } }), 422, 'validation');
  });

  it('disable and enable (with a reason), also through PATCH enabled', async () => {
    const h = herald();
    const operate = await h.createKey('operate');
    const ep = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['*'] });
    const off = await h.request('POST', `/v1/endpoints/${ep.id}/disable`, { key: operate, body: { reason: 'maintenance window' } });
    expect(off.status).toBe(200);
    expect(endpointSchema.parse(off.body)).toMatchObject({ enabled: false, disabled_reason: 'maintenance window' });
    expect((await getEndpoint(ep.id)).enabled).toBe(false);
    // again: no change, still 200
    expect(endpointSchema.parse((await h.request('POST', `/v1/endpoints/${ep.id}/disable`, { key: operate })).body).enabled).toBe(false);
    const on = await h.request('POST', `/v1/endpoints/${ep.id}/enable`, { key: operate });
    expect(endpointSchema.parse(on.body)).toMatchObject({ enabled: true, disabled_reason: null });
    expectProblem(await h.request('POST', `/v1/endpoints/${ep.id}/enable`, { key: operate, body: { why: 'x' } }), 422, 'validation');

    const viaPatch = await h.request('PATCH', `/v1/endpoints/${ep.id}`, { body: { enabled: false } });
    expect(endpointSchema.parse(viaPatch.body).enabled).toBe(false);
    expect((await getEndpoint(ep.id)).enabled).toBe(false);
  });

  it('DELETE archives: GET still answers, the list hides it unless include_archived=true, changes are a 409', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['archive.me'] });
    expect(await listIds()).toContain(ep.id);
    const before = await ingest(h, { type: 'archive.me' });
    expect(before.deliveries.map((d) => d.endpoint_id)).toContain(ep.id);
    const mine = before.deliveries.find((d) => d.endpoint_id === ep.id)!;
    const del = await h.request('DELETE', `/v1/endpoints/${ep.id}`);
    expect(del.status).toBe(200);
    const archived = endpointSchema.parse(del.body);
    expect(archived.archived_at).not.toBeNull();
    expect((await getEndpoint(ep.id)).archived_at).toBe(archived.archived_at);
    expect(await listIds()).not.toContain(ep.id);
    expect(await listIds('&include_archived=false')).not.toContain(ep.id);
    expect(await listIds('&include_archived=true')).toContain(ep.id);
    // its history stays: the delivery made before archiving is still there; new events do not reach it
    const history = await h.request<{ data: Array<{ id: string }> }>('GET', `/v1/deliveries?endpoint_id=${ep.id}`);
    expect(history.body.data.map((d) => d.id)).toEqual([mine.id]);
    expect((await h.request('GET', `/v1/deliveries/${mine.id}`)).status).toBe(200);
    expect((await ingest(h, { type: 'archive.me' })).deliveries.map((d) => d.endpoint_id)).not.toContain(ep.id);
    // archiving twice is harmless; changing an archived endpoint is a conflict
    expect(endpointSchema.parse((await h.request('DELETE', `/v1/endpoints/${ep.id}`)).body).archived_at).toBe(archived.archived_at);
    expectProblem(await h.request('PATCH', `/v1/endpoints/${ep.id}`, { body: { description: 'x' } }), 409, 'conflict');
    expectProblem(await h.request('POST', `/v1/endpoints/${ep.id}/enable`), 409, 'conflict');
    expectProblem(await h.request('POST', `/v1/endpoints/${ep.id}/disable`), 409, 'conflict');
  });

  it('an archived webhook endpoint no longer hands out its signing secret (409)', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['gone.*'] });
    expect((await h.request('GET', `/v1/endpoints/${ep.id}/secret`)).status).toBe(200);
    expect((await h.request('DELETE', `/v1/endpoints/${ep.id}`)).status).toBe(200);
    expectProblem(await h.request('GET', `/v1/endpoints/${ep.id}/secret`), 409, 'conflict');
  });

  it('lists newest first and filters by channel', async () => {
    const h = herald();
    const a = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['list.*'] });
    const b = await createEndpoint(h, { channel: 'discord', url: HOOK, events: ['list.*'] });
    const all = await listIds();
    expect(all.indexOf(b.id)).toBeLessThan(all.indexOf(a.id));
    const slack = await h.request<{ data: EndpointView[] }>('GET', '/v1/endpoints?channel=slack&limit=500');
    expect(slack.body.data.every((e) => e.channel === 'slack')).toBe(true);
    expect(slack.body.data.map((e) => e.id)).toContain(a.id);
    expect(slack.body.data.map((e) => e.id)).not.toContain(b.id);
    expectProblem(await h.request('GET', '/v1/endpoints?channel=sms'), 400, 'bad-request');
    // pages of one
    const p1 = await h.request<{ data: EndpointView[]; next_cursor: string }>('GET', '/v1/endpoints?limit=1');
    expect(p1.body.data).toHaveLength(1);
    const p2 = await h.request<{ data: EndpointView[] }>('GET', `/v1/endpoints?limit=1&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data[0]!.id).not.toBe(p1.body.data[0]!.id);
  });

  it('rotate-secret answers a new secret; /secret then shows the current and the previous one', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'] });
    const before = Date.now();
    const r = await h.request('POST', `/v1/endpoints/${ep.id}/rotate-secret`);
    expect(r.status).toBe(200);
    const rotated = z.object({ id: z.string(), secret: z.string(), previous_secret_expires_at: z.string() }).parse(r.body);
    expect(rotated.id).toBe(ep.id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(ep.secret);
    const grace = Date.parse(rotated.previous_secret_expires_at) - before;
    expect(grace).toBeGreaterThan(86_400_000 - 60_000); // 24 h by default
    expect(grace).toBeLessThan(86_400_000 + 60_000);

    const shown = secretAnswer.parse((await h.request('GET', `/v1/endpoints/${ep.id}/secret`)).body);
    expect(shown).toEqual({ secret: rotated.secret, previous: [{ secret: ep.secret, expires_at: rotated.previous_secret_expires_at }] });

    // a chosen secret with no grace: the previous one stops at once
    const own = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    const r2 = await h.request('POST', `/v1/endpoints/${ep.id}/rotate-secret`, { body: { secret: own, grace_s: 0 } });
    expect(r2.status).toBe(200);
    expect(secretAnswer.parse((await h.request('GET', `/v1/endpoints/${ep.id}/secret`)).body)).toEqual({ secret: own });

    expectProblem(await h.request('POST', `/v1/endpoints/${ep.id}/rotate-secret`, { body: { secret: 'nope' } }), 422, 'validation');
    const slack = await createEndpoint(h, { channel: 'slack', url: HOOK, events: ['*'] });
    expectProblem(await h.request('POST', `/v1/endpoints/${slack.id}/rotate-secret`), 409, 'conflict');
    // the secret is admin-only
    expectProblem(await h.request('GET', `/v1/endpoints/${ep.id}/secret`, { key: await h.createKey('operate') }), 403, 'forbidden');
  });

  it('unknown endpoints are a 404 on every route', async () => {
    const h = herald();
    const id = 'ep_01J00000000000000000000000';
    for (const [method, path] of [
      ['GET', `/v1/endpoints/${id}`],
      ['PATCH', `/v1/endpoints/${id}`],
      ['DELETE', `/v1/endpoints/${id}`],
      ['POST', `/v1/endpoints/${id}/enable`],
      ['POST', `/v1/endpoints/${id}/disable`],
      ['POST', `/v1/endpoints/${id}/rotate-secret`],
      ['GET', `/v1/endpoints/${id}/secret`],
    ] as const) {
      expectProblem(await h.request(method, path, method === 'PATCH' ? { body: { description: 'x' } } : {}), 404, 'not-found');
    }
  });
});

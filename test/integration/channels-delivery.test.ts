// Email, Slack, Discord and digests through the whole engine: endpoints and events over the API,
// a real SMTP server and a real HTTP receiver on 127.0.0.1 checking what arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpoint, getDelivery, ledgerEntries, postEvent, waitForDelivery } from '../support/deliveries.js';
import { type TestHerald, finish, startTestHerald, trackFailures } from '../support/herald.js';
import { type Receiver, startReceiver, waitFor } from '../support/receiver.js';
import { type Smtp, startSmtp } from '../support/smtp.js';
import { ingestAnswerSchema } from '../../src/http/schemas.js';

let smtp: Smtp;
let rx: Receiver;
let later = 0; // 451-later@… is refused this many more times
let heraldInstance: TestHerald | undefined;
const failures = trackFailures();
const herald = () => heraldInstance!;
beforeAll(async () => {
  smtp = await startSmtp({
    onRcptTo(address, _session, cb) {
      const a = address.address;
      if (a.startsWith('550-')) return cb(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
      if (a.startsWith('451-') && later-- > 0) return cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
      cb();
    },
  });
  rx = await startReceiver();
  heraldInstance = await startTestHerald({ HERALD_SMTP_URL: smtp.url, HERALD_SMTP_FROM: 'herald <herald@example.com>', HERALD_MAINTENANCE_CRON: '* * * * * *' });
});
afterAll(async () => {
  await finish(heraldInstance, failures.failed);
  await smtp.close();
  await rx.close();
});

describe('human channels through the engine', () => {
  // endpoints name the SMTP server themselves (smtp_url), per-event recipients use the default transport
  const smtpUrl = () => smtp.url;

  it('sends a templated email: subject, text and HTML parts, hostile values escaped, From and Message-ID', async () => {
    const h = herald();
    await createEndpoint(h, {
      channel: 'email',
      to: ['ops@example.com'],
      smtp_url: smtpUrl(),
      events: ['job.*'],
      template: {
        subject: '[gpu] {{ event.type }} for {{ event.subject }}',
        text: 'job {{ event.subject }} of {{ event.user }}: {{ data.reason }}',
        html: '<p>job <b>{{ event.subject }}</b>: {{ data.reason }}</p>',
      },
    });
    const ev = await postEvent(h, { type: 'job.failed', subject: 'job-7', user: 'alice', data: { reason: '<script>alert(1)</script> & co' } });
    const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'succeeded');
    const mail = smtp.received.find((m) => m.mail.subject === '[gpu] job.failed for job-7')!;
    expect(mail).toBeDefined();
    expect(mail.envelope.to).toEqual(['ops@example.com']);
    expect(mail.mail.from?.value[0]).toMatchObject({ name: 'herald', address: 'herald@example.com' });
    expect(mail.mail.messageId).toContain(d.id);
    expect(mail.mail.text?.trim()).toBe('job job-7 of alice: <script>alert(1)</script> & co');
    expect(mail.mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(mail.mail.html).not.toContain('<script>');
    expect(d.attempts[0]).toMatchObject({ outcome: 'succeeded', status_code: 250 });
    expect(d.attempts[0]!.response_body).toMatch(/queued/);
  });

  it('default templates colour-code the HTML by status', async () => {
    const h = herald();
    await createEndpoint(h, { channel: 'email', to: ['colours@example.com'], smtp_url: smtpUrl(), events: ['run.*'] });
    const ok = await postEvent(h, { type: 'run.completed', subject: 'run-ok' });
    const bad = await postEvent(h, { type: 'run.failed', subject: 'run-bad' });
    await waitForDelivery(h, ok.deliveries[0]!.id, (x) => x.status === 'succeeded');
    await waitForDelivery(h, bad.deliveries[0]!.id, (x) => x.status === 'succeeded');
    const html = (subject: string) => smtp.received.find((m) => m.mail.subject?.includes(subject))!.mail.html as string;
    expect(html('run-ok')).toContain('#1a7f37');
    expect(html('run-bad')).toContain('#cf222e');
  });

  it('delivers an event\'s own notify.email recipients through the default transport', async () => {
    const h = herald();
    {
      const ev = await postEvent(h, { type: 'train.finished', subject: 'run-9', notify: { email: ['me@example.com', 'you@example.com'] } });
      const ad = ev.deliveries.find((x) => x.endpoint_id === null)!;
      expect(ad.channel).toBe('email');
      const d = await waitForDelivery(h, ad.id, (x) => x.status === 'succeeded');
      expect(d.recipients).toEqual(['me@example.com', 'you@example.com']);
      const mail = smtp.received.find((m) => m.mail.messageId?.includes(ad.id))!;
      expect(mail.envelope.to.sort()).toEqual(['me@example.com', 'you@example.com']);
      // on: limits which types notify
      const skipped = await postEvent(h, { type: 'train.started', notify: { email: ['me@example.com'], on: ['train.finished'] } });
      expect(skipped.deliveries.filter((x) => x.endpoint_id === null)).toHaveLength(0);
    }
  });

  it('a 550 recipient is dead after one attempt; a 451 is retried until it succeeds; a server that is down is retried', async () => {
    const h = herald();
    const retry = { schedule_s: [0.2, 0.2, 0.2] };
    await createEndpoint(h, { channel: 'email', to: ['550-nobody@example.com'], smtp_url: smtpUrl(), events: ['mail.550'], retry });
    await createEndpoint(h, { channel: 'email', to: ['451-later@example.com'], smtp_url: smtpUrl(), events: ['mail.451'], retry });
    await createEndpoint(h, { channel: 'email', to: ['x@example.com'], smtp_url: 'smtp://127.0.0.1:1', events: ['mail.down'], retry: { schedule_s: [0.2] }, timeout_ms: 2000 });
    later = 2;
    const [e550, e451, down] = [await postEvent(h, { type: 'mail.550' }), await postEvent(h, { type: 'mail.451' }), await postEvent(h, { type: 'mail.down' })];
    const d550 = await waitForDelivery(h, e550.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(d550.attempts).toHaveLength(1);
    expect(d550.attempts[0]).toMatchObject({ outcome: 'smtp_error', status_code: 550 });
    const d451 = await waitForDelivery(h, e451.deliveries[0]!.id, (x) => x.status === 'succeeded');
    expect(d451.attempts.map((a) => [a.outcome, a.status_code])).toEqual([
      ['smtp_error', 451],
      ['smtp_error', 451],
      ['succeeded', 250],
    ]);
    const dDown = await waitForDelivery(h, down.deliveries[0]!.id, (x) => x.status === 'dead');
    expect(dDown.attempts.map((a) => a.outcome)).toEqual(['network_error', 'network_error']);
  });

  it('posts Slack { text } and Discord { content } payloads', async () => {
    const h = herald();
    rx.reply({ status: 200 });
    await createEndpoint(h, { channel: 'slack', url: `${rx.url}/slack`, events: ['job.*'] });
    await createEndpoint(h, { channel: 'discord', url: `${rx.url}/discord`, events: ['job.*'], template: { text: '{{ event.subject }} is {{ status }}' } });
    const ev = await postEvent(h, { type: 'job.timeout', subject: 'job-88', user: 'bob', data: { url: 'https://ui.example.com/jobs/88' } });
    for (const d of ev.deliveries.filter((x) => x.channel !== 'email')) await waitForDelivery(h, d.id, (x) => x.status === 'succeeded');
    const slack = JSON.parse(rx.received.find((r) => r.path === '/slack')!.body) as { text: string };
    expect(slack.text).toContain('job.timeout');
    expect(slack.text).toContain('job-88');
    expect(slack.text).toContain('https://ui.example.com/jobs/88');
    const discord = JSON.parse(rx.received.find((r) => r.path === '/discord')!.body) as { content: string };
    expect(discord).toEqual({ content: 'job-88 is failure' });
  });

  it('honours Discord\'s 429 retry_after', async () => {
    const h = herald();
    let calls = 0;
    rx.reply((r) => (r.path === '/discord-busy' && ++calls === 1 ? { status: 429, body: JSON.stringify({ retry_after: 0.8, global: false }), headers: { 'content-type': 'application/json' } } : { status: 204 }));
    await createEndpoint(h, { channel: 'discord', url: `${rx.url}/discord-busy`, events: ['busy.*'], retry: { schedule_s: [60] } });
    const ev = await postEvent(h, { type: 'busy.now' });
    const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'succeeded', 10_000);
    expect(d.attempts.map((a) => a.status_code)).toEqual([429, 204]);
    const hits = rx.received.filter((r) => r.path === '/discord-busy');
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(700);
    expect(hits[1]!.at - hits[0]!.at).toBeLessThan(5000);
  });

  it('collects a digest and sends it as one message at the cron tick, recording each event in it', async () => {
    const h = herald();
    const ep = await createEndpoint(h, { channel: 'email', to: ['digest@example.com'], smtp_url: smtpUrl(), events: ['batch.*'], digest: { cron: '*/2 * * * * *' } });
    // One batch, so a tick cannot fall between the events (they commit together).
    const batch = await h.request<{ results: Array<{ status: number; event: unknown }> }>('POST', '/v1/events/batch', {
      body: { events: ['one', 'two', 'three'].map((s) => ({ idempotency_key: `digest-${s}`, type: 'batch.done', subject: `item-${s}` })) },
    });
    expect(batch.body.results.map((r) => r.status)).toEqual([202, 202, 202]);
    const evs = batch.body.results.map((r) => ingestAnswerSchema.parse(r.event));
    const ids = evs.map((e) => e.deliveries[0]!.id);
    // held: nothing is sent per event
    expect((await getDelivery(h, ids[0]!)).next_attempt_at).toBeNull();
    const mail = await waitFor('the digest email', () => smtp.received.find((m) => m.envelope.to.includes('digest@example.com')), 8000);
    for (const s of ['one', 'two', 'three']) expect(mail.mail.text).toContain(`item-${s}`);
    await new Promise((r) => setTimeout(r, 2500));
    expect(smtp.received.filter((m) => m.envelope.to.includes('digest@example.com'))).toHaveLength(1);
    const digest = (await ledgerEntries(h)).find((e) => e.kind === 'digest.created' && (e.body.delivery as { endpoint_id: string }).endpoint_id === ep.id)!;
    expect(digest.body.event_ids).toEqual(evs.map((e) => e.id));
    expect(digest.body.delivery_ids).toEqual(ids);
    for (const id of ids) {
      const d = await waitForDelivery(h, id, (x) => x.status === 'succeeded');
      expect(d.digest_id).toBe((digest.body.delivery as { id: string }).id);
    }
  });

  it('refuses a broken template or schedule with a 422 naming the problem', async () => {
    const h = herald();
    const bad = await h.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/endpoints', {
      body: { channel: 'email', to: ['x@example.com'], events: ['*'], template: { subject: '{{ event.type ' }, digest: { cron: 'every tuesday' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e) => e.path).sort()).toEqual(['digest.cron', 'template.subject']);
    const unknownFilter = await h.request('POST', '/v1/endpoints', { body: { channel: 'slack', url: `${rx.url}/s`, events: ['*'], template: { text: '{{ event.type | shout }}' } } });
    expect(unknownFilter.status).toBe(422);
    const ok = await createEndpoint(h, { channel: 'slack', url: `${rx.url}/s`, events: ['nothing'] });
    const patched = await h.request('PATCH', `/v1/endpoints/${ok.id}`, { body: { template: { text: '{% if %}' } } });
    expect(patched.status).toBe(422);
  });
});

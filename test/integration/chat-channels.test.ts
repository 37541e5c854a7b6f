// Slack and Discord senders through the shared HTTP client against a real receiver on 127.0.0.1:
// the JSON payloads, escaping, Discord's 2,000-character cap and its 429 retry_after.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SendRequest } from '../../src/channels/channel.js';
import { DISCORD_MAX_CONTENT, createDiscordSender, discordRetryAfter } from '../../src/channels/discord.js';
import { HttpClient } from '../../src/channels/http-client.js';
import { createSlackSender } from '../../src/channels/slack.js';
import type { EventRecord } from '../../src/domain/event.js';
import { classify } from '../../src/domain/retry-policy.js';
import { type Receiver, startReceiver } from '../support/receiver.js';

const event = (over: Partial<EventRecord> = {}): EventRecord => ({
  id: 'evt_01JQ',
  type: 'job.failed',
  source: 'gflowd',
  subject: 'job-42',
  user: 'alice',
  occurred_at: '2026-02-04T12:30:45.000Z',
  received_at: '2026-02-04T12:30:46.000Z',
  data: { exit_code: 137, url: 'https://ci.example.com/jobs/42' },
  notify: null,
  ...over,
});

let receiver: Receiver;
let http: HttpClient;

const request = (over: Partial<SendRequest> = {}): SendRequest => ({
  deliveryId: 'msg_chat',
  attempt: 1,
  channel: 'slack',
  event: event(),
  url: `${receiver.url}/hook`,
  to: null,
  from: null,
  template: null,
  signingSecrets: [],
  headers: {},
  smtpUrl: null,
  timeoutMs: 5_000,
  signal: new AbortController().signal,
  now: () => new Date('2026-02-04T12:31:00.000Z'),
  ...over,
});

const lastBody = (): unknown => JSON.parse(receiver.received.at(-1)!.body);

beforeAll(async () => {
  receiver = await startReceiver();
  http = new HttpClient({ allowPrivateNetworks: true, userAgent: 'herald/test' });
});
afterAll(async () => {
  await http.close();
  await receiver.close();
});
beforeEach(() => receiver.reply({ status: 200, body: 'ok' }));

describe('Slack', () => {
  const slack = () => createSlackSender(http);

  it('posts { text } from the default template as JSON', async () => {
    const result = await slack().send(request());
    expect(result).toMatchObject({ outcome: 'succeeded', status_code: 200 });
    const got = receiver.received.at(-1)!;
    expect(got.path).toBe('/hook');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('herald/test');
    expect(lastBody()).toEqual({ text: '*job.failed* job-42 (alice) — failed\nhttps://ci.example.com/jobs/42' });
  });

  it("renders the endpoint's own template, and values cannot mention @channel or add links", async () => {
    const hostile = event({ subject: '<!channel> <https://evil.example|click here>' });
    await slack().send(request({ event: hostile, template: { text: '<!here> {{ event.type }}: {{ event.subject }} by {{ event.user }}' } }));
    expect(lastBody()).toEqual({ text: '<!here> job.failed: &lt;!channel&gt; &lt;https://evil.example|click here&gt; by alice' });
  });

  it('a digest is one message with a line per event', async () => {
    const events = [event({ id: 'evt_a', type: 'job.completed', subject: 'job-41', data: {} }), event({ id: 'evt_b', data: {} })];
    await slack().send(request({ event: events[1]!, digestEvents: events }));
    expect(lastBody()).toEqual({ text: '*herald digest*: 2 events, 1 failed\n• *job.completed* job-41 (alice) — succeeded\n• *job.failed* job-42 (alice) — failed' });
  });

  it('429 with Retry-After is retried after that long', async () => {
    receiver.reply({ status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' });
    const result = await slack().send(request());
    expect(result).toMatchObject({ outcome: 'http_error', status_code: 429, retry_after_s: 30, response_body: 'rate_limited' });
    expect(classify(result)).toBe('retry');
  });

  it('404 no_service is a permanent failure', async () => {
    receiver.reply({ status: 404, body: 'no_service' });
    const result = await slack().send(request());
    expect(result).toMatchObject({ outcome: 'http_error', status_code: 404, response_body: 'no_service' });
    expect(classify(result)).toBe('permanent');
  });

  it('no URL, an empty message or a template over the limits fail without a request (permanently, but for time: retried)', async () => {
    const before = receiver.received.length;
    expect(await slack().send(request({ url: null }))).toMatchObject({ outcome: 'network_error', permanent: true });
    expect(await slack().send(request({ template: { text: '{% if false %}x{% endif %}  ' } }))).toMatchObject({
      outcome: 'network_error', permanent: true, error: 'the text template rendered an empty message',
    });
    const loop = await slack().send(request({ template: { text: '{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}' } }));
    // over time may be a busy machine: retried; over memory is the template's own doing: final
    expect(loop).toMatchObject({ outcome: 'network_error', permanent: false, error: expect.stringMatching(/^template\.text: render limit exceeded/) });
    const greedy = await slack().send(request({ template: { text: "{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}" } }));
    expect(greedy).toMatchObject({ outcome: 'network_error', permanent: true, error: expect.stringMatching(/^template\.text: memory alloc limit exceeded/) });
    expect(receiver.received.length).toBe(before);
  });
});

describe('Discord', () => {
  const discord = () => createDiscordSender(http);

  it('posts { content } from the default template as JSON', async () => {
    const result = await discord().send(request({ channel: 'discord', event: event({ type: 'job.completed' }) }));
    expect(result).toMatchObject({ outcome: 'succeeded', status_code: 200 });
    expect(receiver.received.at(-1)!.headers['content-type']).toBe('application/json');
    expect(lastBody()).toEqual({ content: '**job.completed** job-42 (alice) — succeeded\nhttps://ci.example.com/jobs/42' });
  });

  it('values cannot ping @everyone or a user', async () => {
    await discord().send(request({ channel: 'discord', event: event({ subject: '@everyone <@123456>' }), template: { text: '@here {{ event.subject }}' } }));
    expect(lastBody()).toEqual({ content: '@here @\u200beveryone <@\u200b123456>' });
  });

  it('content is cut to 2,000 characters', async () => {
    const long = event({ data: { log: 'x'.repeat(5_000) } });
    await discord().send(request({ channel: 'discord', event: long, template: { text: '{{ event.type }}\n{{ data.log }}' } }));
    const { content } = lastBody() as { content: string };
    expect(content.length).toBe(DISCORD_MAX_CONTENT);
    expect(content.startsWith('job.failed\nxxx')).toBe(true);
    expect(content.endsWith('x…')).toBe(true);
  });

  it("429 with a JSON retry_after (seconds, fractional) sets retry_after_s", async () => {
    receiver.reply({
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '2' },
      body: JSON.stringify({ message: 'You are being rate limited.', retry_after: 1.5, global: false }),
    });
    const result = await discord().send(request({ channel: 'discord' }));
    expect(result).toMatchObject({ outcome: 'http_error', status_code: 429, retry_after_s: 1.5 });
    expect(classify(result)).toBe('retry');
  });

  it('429 without a JSON body falls back to the Retry-After header', async () => {
    receiver.reply({ status: 429, headers: { 'retry-after': '7' }, body: 'slow down' });
    const result = await discord().send(request({ channel: 'discord' }));
    expect(result).toMatchObject({ status_code: 429, retry_after_s: 7 });
  });

  it('a retry_after in any other answer is ignored', async () => {
    receiver.reply({ status: 400, body: JSON.stringify({ retry_after: 5, code: 50006, message: 'Cannot send an empty message' }) });
    const result = await discord().send(request({ channel: 'discord' }));
    expect(result).toMatchObject({ outcome: 'http_error', status_code: 400, retry_after_s: null });
    expect(classify(result)).toBe('permanent');
  });

  it('reads retry_after defensively', () => {
    expect(discordRetryAfter('{"retry_after": 0.25}')).toBe(0.25);
    expect(discordRetryAfter('{"retry_after": "3"}')).toBeNull();
    expect(discordRetryAfter('{"retry_after": -1}')).toBeNull();
    expect(discordRetryAfter('[1]')).toBeNull();
    expect(discordRetryAfter('not json')).toBeNull();
    expect(discordRetryAfter(null)).toBeNull();
  });
});

describe('unreachable receivers', () => {
  it('a closed port is a retryable network_error for both', async () => {
    const gone = await startReceiver();
    const url = `${gone.url}/hook`;
    await gone.close();
    for (const sender of [createSlackSender(http), createDiscordSender(http)]) {
      const result = await sender.send(request({ url }));
      expect(result.outcome).toBe('network_error');
      expect(classify(result)).toBe('retry');
    }
  });
});

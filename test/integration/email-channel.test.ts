// The email channel against a real SMTP server on 127.0.0.1 (smtp-server), with what arrives parsed
// by mailparser: templates, escaping, headers, recipients, SMTP replies, refused and silent servers, TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendRequest } from '../../src/channels/channel.js';
import { type EmailSender, createEmailSender, smtpOptions } from '../../src/channels/email.js';
import type { EventRecord } from '../../src/domain/event.js';
import { classify } from '../../src/domain/retry-policy.js';
import { type Smtp, startSmtp } from '../support/smtp.js';

/** A TCP server that accepts and never says a word (no SMTP greeting). */
async function startSilent(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

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

const request = (over: Partial<SendRequest> = {}): SendRequest => ({
  deliveryId: 'msg_2b7c9d',
  attempt: 1,
  channel: 'email',
  event: event(),
  url: null,
  to: ['alice@example.com'],
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

describe('email channel', () => {
  let smtp: Smtp;
  let sender: EmailSender;

  beforeAll(async () => {
    smtp = await startSmtp();
    sender = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: smtp.url, defaultFrom: 'herald <herald@example.com>', userAgent: 'herald/test' });
  });
  afterAll(async () => {
    await sender.close();
    await smtp.close();
  });

  it('sends the templated subject, text and HTML with From, To and a Message-ID from the delivery id', async () => {
    const result = await sender.send(request({
      deliveryId: 'msg_templated',
      attempt: 3,
      to: ['alice@example.com', 'ml-oncall@example.com'],
      from: 'gflow <noreply@example.com>',
      template: {
        subject: '[gflow-prod] {{ event.type }} {{ event.subject }} exit {{ data.exit_code }}',
        text: 'Job {{ event.subject }} of {{ event.user }}: {{ status }} ({{ delivery.attempt }})',
        html: '<h1>{{ event.type }}</h1><p>{{ data.exit_code }}</p>',
      },
    }));
    expect(result).toMatchObject({ outcome: 'succeeded', status_code: 250, error: null, remote_address: `127.0.0.1:${smtp.port}` });
    expect(result.response_body).toMatch(/^250 .*queued as test-1/);
    expect(result.request_headers).toEqual({
      from: 'gflow <noreply@example.com>',
      to: 'alice@example.com, ml-oncall@example.com',
      subject: '[gflow-prod] job.failed job-42 exit 137',
      'message-id': '<msg_templated@herald>',
    });
    expect(classify(result)).toBe('succeeded');

    const got = smtp.received.at(-1)!;
    expect(got.envelope).toEqual({ from: 'noreply@example.com', to: ['alice@example.com', 'ml-oncall@example.com'] });
    expect(got.mail.subject).toBe('[gflow-prod] job.failed job-42 exit 137');
    expect(got.mail.messageId).toBe('<msg_templated@herald>');
    expect(got.mail.from?.value).toEqual([{ address: 'noreply@example.com', name: 'gflow' }]);
    expect(got.mail.text?.trim()).toBe('Job job-42 of alice: failure (3)');
    expect(got.mail.html).toBe('<h1>job.failed</h1><p>137</p>');
    expect(got.mail.headers.get('x-herald-attempt')).toBe('3');
    expect(got.mail.headers.get('x-herald-event')).toBe('evt_01JQ');
    expect(got.mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(got.mail.headers.get('x-mailer')).toBe('herald/test');
  });

  it('uses the default templates and sender, colour-coded, with hostile values escaped in HTML', async () => {
    const hostile = event({
      subject: '<script>alert("s")</script>',
      data: { note: '<script>alert("d")</script>', url: 'https://ci.example.com/jobs/42?a=1&b=2' },
    });
    const result = await sender.send(request({ deliveryId: 'msg_defaults', event: hostile }));
    expect(result.outcome).toBe('succeeded');
    const got = smtp.received.at(-1)!;
    expect(got.mail.from?.value).toEqual([{ address: 'herald@example.com', name: 'herald' }]);
    expect(got.mail.subject).toBe('[herald] job.failed: <script>alert("s")</script>');
    expect(got.mail.text).toContain('Subject: <script>alert("s")</script>');
    expect(got.mail.text).toContain('"note": "<script>alert(\\"d\\")</script>"');
    const html = String(got.mail.html);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;');
    expect(html).toContain('&lt;script&gt;alert(\\&#34;d\\&#34;)&lt;/script&gt;');
    expect(html).toContain('color:#cf222e');
    expect(html).toContain('<a href="https://ci.example.com/jobs/42?a=1&amp;b=2">');
  });

  it('the same Message-ID on every retry of a delivery', async () => {
    await sender.send(request({ deliveryId: 'msg_retry', attempt: 1 }));
    await sender.send(request({ deliveryId: 'msg_retry', attempt: 2 }));
    const [a, b] = smtp.received.slice(-2);
    expect(a!.mail.messageId).toBe('<msg_retry@herald>');
    expect(b!.mail.messageId).toBe('<msg_retry@herald>');
    expect([a!.mail.headers.get('x-herald-attempt'), b!.mail.headers.get('x-herald-attempt')]).toEqual(['1', '2']);
  });

  it('a digest is one message listing every event', async () => {
    const events = [event({ id: 'evt_a', type: 'job.completed', subject: 'job-41' }), event({ id: 'evt_b' })];
    const result = await sender.send(request({ deliveryId: 'msg_digest', event: events[1]!, digestEvents: events }));
    expect(result.outcome).toBe('succeeded');
    const got = smtp.received.at(-1)!;
    expect(got.mail.subject).toBe('[herald] digest: 2 events, 1 failed');
    expect(got.mail.text).toContain('job.completed  job-41');
    expect(got.mail.text).toContain('job.failed  job-42');
  });

  it('an empty html template sends text only', async () => {
    await sender.send(request({ deliveryId: 'msg_textonly', template: { html: '' } }));
    const got = smtp.received.at(-1)!;
    expect(got.mail.html).toBe(false);
    expect(got.mail.text).toContain('Type:    job.failed');
  });

  it('a recipient answered 550 is a permanent smtp_error 550', async () => {
    const before = smtp.received.length;
    const result = await sender.send(request({ to: ['550-nobody@example.com'] }));
    expect(result).toMatchObject({ outcome: 'smtp_error', status_code: 550 });
    expect(result.error).toContain('550');
    expect(result.response_body).toMatch(/^550 /);
    expect(result.request_headers?.['message-id']).toBe('<msg_2b7c9d@herald>');
    expect(classify(result)).toBe('permanent');
    expect(smtp.received.length).toBe(before);
  });

  it('a recipient answered 451 is a retryable smtp_error 451', async () => {
    const result = await sender.send(request({ to: ['451-later@example.com'] }));
    expect(result).toMatchObject({ outcome: 'smtp_error', status_code: 451 });
    expect(classify(result)).toBe('retry');
  });

  it('one rejected recipient of two: delivered to the other, and said so', async () => {
    const result = await sender.send(request({ deliveryId: 'msg_partial', to: ['bob@example.com', '550-gone@example.com'] }));
    expect(result.outcome).toBe('succeeded');
    expect(result.error).toMatch(/delivered to 1 of 2 recipients; rejected: 550-gone@example.com/);
    expect(smtp.received.at(-1)!.envelope.to).toEqual(['bob@example.com']);
  });

  it("the endpoint's smtp_url wins over the default", async () => {
    const down = await closedPort();
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: `smtp://127.0.0.1:${down}`, defaultFrom: 'herald@example.com' });
    try {
      const result = await s.send(request({ deliveryId: 'msg_own_url', smtpUrl: smtp.url }));
      expect(result.outcome).toBe('succeeded');
      expect(smtp.received.at(-1)!.mail.messageId).toBe('<msg_own_url@herald>');
    } finally {
      await s.close();
    }
  });

  it('refuses an SMTP server on a loopback or private address unless private networks are allowed (the SSRF guard), sending nothing', async () => {
    const before = smtp.received.length;
    const s = createEmailSender({ defaultSmtpUrl: smtp.url, defaultFrom: 'herald@example.com' });
    try {
      for (const url of [smtp.url, `smtp://localhost:${smtp.port}`, `smtp://[::1]:${smtp.port}`, 'smtp://169.254.169.254:25', 'smtp://10.1.2.3:25']) {
        const result = await s.send(request({ deliveryId: 'msg_guarded', smtpUrl: url }));
        expect(result, url).toMatchObject({ outcome: 'network_error', permanent: true, error: expect.stringMatching(/refused to connect to .*not a public address/) });
      }
      expect(smtp.received.length).toBe(before);
    } finally {
      await s.close();
    }
  });

  it('without any SMTP URL the failure is permanent and says what to set', async () => {
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: null, defaultFrom: 'herald@example.com' });
    const result = await s.send(request());
    expect(result).toMatchObject({ outcome: 'network_error', error: "no SMTP transport: set HERALD_SMTP_URL or the endpoint's smtp_url", permanent: true });
    expect(classify(result)).toBe('permanent');
    await s.close();
  });

  it('no recipients, a bad URL or a template that cannot render are permanent, and nothing is sent', async () => {
    const before = smtp.received.length;
    expect(await sender.send(request({ to: [] }))).toMatchObject({ outcome: 'network_error', permanent: true });
    expect(await sender.send(request({ smtpUrl: 'http://127.0.0.1:25' }))).toMatchObject({ outcome: 'network_error', permanent: true, error: expect.stringContaining('invalid SMTP URL') });
    const bomb = "{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}";
    const result = await sender.send(request({ template: { text: bomb } }));
    expect(result).toMatchObject({ outcome: 'network_error', permanent: true, error: expect.stringMatching(/^template\.text: .*limit exceeded/) });
    expect(smtp.received.length).toBe(before);
  });

  it('reuses one pooled connection for several messages', async () => {
    const own = await startSmtp();
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: own.url, defaultFrom: 'herald@example.com' });
    try {
      for (const id of ['msg_p1', 'msg_p2', 'msg_p3']) expect((await s.send(request({ deliveryId: id }))).outcome).toBe('succeeded');
      expect(own.received.map((r) => r.mail.messageId)).toEqual(['<msg_p1@herald>', '<msg_p2@herald>', '<msg_p3@herald>']);
      expect(own.connections).toBe(1);
    } finally {
      await s.close();
      await own.close();
    }
  });
});

describe('email channel: authentication', () => {
  it('logs in with the credentials in the URL and never returns the password', async () => {
    const password = 'p@ss:w/rd secret';
    const smtp = await startSmtp({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, cb) {
        if (auth.username === 'herald' && auth.password === password) cb(null, { user: 'herald' });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
    });
    const good = `smtp://herald:${encodeURIComponent(password)}@127.0.0.1:${smtp.port}`;
    const bad = `smtp://herald:${encodeURIComponent(`${password}-wrong`)}@127.0.0.1:${smtp.port}`;
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: null, defaultFrom: 'herald@example.com' });
    try {
      const ok = await s.send(request({ smtpUrl: good }));
      expect(ok.outcome).toBe('succeeded');
      expect(smtp.received.at(-1)!.user).toBe('herald');
      expect(JSON.stringify(ok)).not.toContain('secret');

      const refused = await s.send(request({ smtpUrl: bad }));
      expect(refused).toMatchObject({ outcome: 'smtp_error', status_code: 535 });
      expect(classify(refused)).toBe('permanent');
      expect(JSON.stringify(refused)).not.toContain('secret');
    } finally {
      await s.close();
      await smtp.close();
    }
  });
});

describe('email channel: servers that are down or silent', () => {
  let s: EmailSender;
  beforeAll(() => {
    s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: null, defaultFrom: 'herald@example.com' });
  });
  afterAll(() => s.close());

  it('a closed port is a retryable network_error', async () => {
    const port = await closedPort();
    const result = await s.send(request({ smtpUrl: `smtp://127.0.0.1:${port}` }));
    expect(result).toMatchObject({ outcome: 'network_error', status_code: null, remote_address: `127.0.0.1:${port}` });
    expect(result.error).toContain('ECONNREFUSED');
    expect(classify(result)).toBe('retry');
  });

  it('a server that never greets is a timeout after timeout_ms', async () => {
    const silent = await startSilent();
    try {
      const started = Date.now();
      const result = await s.send(request({ smtpUrl: `smtp://127.0.0.1:${silent.port}`, timeoutMs: 300 }));
      expect(result.outcome).toBe('timeout');
      expect(classify(result)).toBe('retry');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });

  it('an aborted attempt ends at once as a timeout', async () => {
    const silent = await startSilent();
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(new Error('shutting down')), 100);
      const started = Date.now();
      const result = await s.send(request({ smtpUrl: `smtp://127.0.0.1:${silent.port}`, timeoutMs: 10_000, signal: abort.signal }));
      expect(result).toMatchObject({ outcome: 'timeout', error: 'the attempt was aborted' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
    }
  });
});

describe('SMTP URLs', () => {
  it('smtp, smtps and ?tls=required map to transport options', () => {
    expect(smtpOptions('smtp://localhost:25', 1000)).toMatchObject({ host: 'localhost', port: 25, secure: false, requireTLS: false, auth: undefined });
    expect(smtpOptions('smtps://user:pa%40ss@smtp.example.com:465', 1000)).toMatchObject({ port: 465, secure: true, auth: { user: 'user', pass: 'pa@ss' } });
    expect(smtpOptions('smtps://smtp.example.com', 1000)).toMatchObject({ port: 465, secure: true });
    expect(smtpOptions('smtp://u:p@smtp.example.com:587?tls=required', 1000)).toMatchObject({ port: 587, secure: false, requireTLS: true });
    expect(smtpOptions('smtp://smtp.example.com?tls=required', 1000)).toMatchObject({ port: 587, requireTLS: true });
    expect(smtpOptions('smtp://smtp.example.com', 2500)).toMatchObject({ port: 25, connectionTimeout: 2500, greetingTimeout: 2500, socketTimeout: 2500 });
    expect(() => smtpOptions('smtp://smtp.example.com?tls=maybe', 1000)).toThrow(/tls=maybe/);
    expect(() => smtpOptions('https://smtp.example.com', 1000)).toThrow(/scheme/);
  });
});

// TLS needs a certificate for 127.0.0.1; openssl makes a throwaway one when it is installed.
const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!openssl)('email channel: TLS', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-smtp-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('smtps:// speaks TLS from the first byte', async () => {
    const smtp = await startSmtp({ secure: true, key, cert });
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: `smtps://127.0.0.1:${smtp.port}`, defaultFrom: 'herald@example.com', tls: { ca: cert } });
    try {
      const result = await s.send(request({ deliveryId: 'msg_smtps' }));
      expect(result.outcome).toBe('succeeded');
      expect(smtp.received.at(-1)!.secure).toBe(true);
    } finally {
      await s.close();
      await smtp.close();
    }
  });

  it('?tls=required upgrades with STARTTLS, and fails when the server refuses it', async () => {
    const withTls = await startSmtp({ disabledCommands: [], key, cert });
    const without = await startSmtp();
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: null, defaultFrom: 'herald@example.com', tls: { ca: cert } });
    try {
      const ok = await s.send(request({ deliveryId: 'msg_starttls', smtpUrl: `smtp://127.0.0.1:${withTls.port}?tls=required` }));
      expect(ok.outcome).toBe('succeeded');
      expect(withTls.received.at(-1)!.secure).toBe(true);

      const refused = await s.send(request({ smtpUrl: `smtp://127.0.0.1:${without.port}?tls=required` }));
      // The server's 5xx to STARTTLS is its answer: a configuration mismatch that retrying will not fix.
      expect(refused).toMatchObject({ outcome: 'smtp_error', status_code: 500 });
      expect(refused.error).toMatch(/STARTTLS/);
      expect(classify(refused)).toBe('permanent');
      expect(without.received).toHaveLength(0);
    } finally {
      await s.close();
      await withTls.close();
      await without.close();
    }
  });

  it('a certificate that is not trusted is a network_error', async () => {
    const smtp = await startSmtp({ secure: true, key, cert });
    const s = createEmailSender({ allowPrivateNetworks: true, defaultSmtpUrl: `smtps://127.0.0.1:${smtp.port}`, defaultFrom: 'herald@example.com' });
    try {
      const result = await s.send(request());
      expect(result.outcome).toBe('network_error');
      expect(result.error).toMatch(/certificate/i);
      expect(smtp.received).toHaveLength(0);
    } finally {
      await s.close();
      await smtp.close();
    }
  });
});

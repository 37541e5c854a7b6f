// Email over SMTP (nodemailer): one pooled transport per SMTP URL, subject/text/HTML from the
// endpoint's templates or herald's defaults, and the server's reply recorded as the outcome.
import { setMaxListeners } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import nodemailer, { type NodemailerError, type SMTPPoolOptions, type SMTPPoolSentMessageInfo, type Transporter } from 'nodemailer';
import type { Outcome } from '../domain/retry-policy.js';
import ipaddr from 'ipaddr.js';
import { ForbiddenAddressError, guardedLookup, isForbiddenAddress } from './address-guard.js';
import { type ChannelSender, RESPONSE_EXCERPT_BYTES, type SendRequest, type SendResult, failure } from './channel.js';
import { renderFailure, renderPartInTurn } from './render-turns.js';
import { RENDER_LIMIT_MS, TemplateError, templateContext } from './templates.js';

export interface EmailSenderOptions {
  /** Connect to loopback, private and other non-public SMTP servers (HERALD_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean | undefined;
  /** HERALD_SMTP_URL: used when the endpoint has no smtp_url of its own. */
  defaultSmtpUrl?: string | null | undefined;
  /** HERALD_SMTP_FROM: used when the endpoint has no `from`. */
  defaultFrom: string;
  /** Sent as X-Mailer. */
  userAgent?: string | undefined;
  /** Extra TLS options for every transport (e.g. `ca` for a private certificate authority). */
  tls?: ConnectionOptions | undefined;
  /** Transports kept open at once (one per SMTP URL and timeout); the least recently used is closed. */
  maxTransports?: number | undefined;
  /** HERALD_RENDER_LIMIT_MS: render time of each template part. */
  renderLimitMs?: number | undefined;
}

export interface EmailSender extends ChannelSender {
  close(): Promise<void>;
}

type Mailer = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;

interface Transport {
  mailer: Mailer;
  /** host:port, recorded as the attempt's remote address. */
  address: string;
  /** The password, to scrub from any error text. */
  secret: string | null;
}

const MAX_SUBJECT = 998;

/** Transport options from an smtp:// or smtps:// URL; throws with a message safe to record. */
export function smtpOptions(url: string, timeoutMs: number) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('the SMTP URL is not a valid URL');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error(`unsupported SMTP URL scheme ${u.protocol} (use smtp:// or smtps://)`);
  const secure = u.protocol === 'smtps:';
  const tls = u.searchParams.get('tls');
  if (tls !== null && !['required', 'opportunistic', 'none'].includes(tls)) throw new Error(`unknown tls=${tls} in the SMTP URL (required, opportunistic or none)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error('the SMTP URL has no host');
  const port = u.port ? Number(u.port) : secure ? 465 : tls === 'required' ? 587 : 25;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  return {
    host,
    port,
    secure,
    requireTLS: !secure && tls === 'required',
    ignoreTLS: !secure && tls === 'none',
    auth: user ? { user, pass } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    secret: pass || null,
  };
}

/** The SMTP reply code at the start of a reply ("250 2.0.0 OK" → 250). */
function replyCode(response: string | undefined): number | null {
  const m = /^([2-5]\d\d)[ -]/.exec(response ?? '');
  return m ? Number(m[1]) : null;
}

function excerpt(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return buf.length <= RESPONSE_EXCERPT_BYTES ? text : buf.subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
}

function scrub(text: string, secret: string | null): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]').split(encodeURIComponent(secret)).join('[redacted]');
}

/** Maps a nodemailer error to an outcome: SMTP replies keep their code, the rest is timeout or network. */
function describe(err: NodemailerError, signal: AbortSignal, timeoutMs: number): { outcome: Outcome; status_code: number | null; error: string; response_body: string | null; permanent?: boolean } {
  if (err.code === 'EABORT' || err.name === 'AbortError') {
    const reason: unknown = signal.reason;
    const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
    return { outcome: 'timeout', status_code: null, error: timedOut ? `no answer from the SMTP server within ${timeoutMs} ms` : 'the attempt was aborted', response_body: null };
  }
  // An SMTP reply (4xx, 5xx) is the server's answer; anything else is about the connection.
  if (typeof err.responseCode === 'number' && err.responseCode >= 400 && err.responseCode < 600) {
    return {
      outcome: 'smtp_error',
      status_code: err.responseCode,
      error: err.message,
      response_body: err.response ? excerpt(err.response) : null,
    };
  }
  const detail = [err.originalCode ?? err.code, err.message].filter(Boolean).join(': ');
  if (err.code === 'ETIMEDOUT') return { outcome: 'timeout', status_code: null, error: detail, response_body: null };
  // Missing credentials or a bad configuration will not fix themselves.
  const permanent = err.code === 'ENOAUTH' || err.code === 'ECONFIG' || err.code === 'EENVELOPE';
  return { outcome: 'network_error', status_code: null, error: detail, response_body: null, ...(permanent ? { permanent } : {}) };
}

export function createEmailSender(opts: EmailSenderOptions): EmailSender {
  const transports = new Map<string, Transport>();
  const maxTransports = opts.maxTransports ?? 64;

  /**
   * The SMTP server's address, checked by the SSRF guard unless private networks are allowed. The
   * transport then connects to that address (so DNS cannot answer differently later), naming the
   * host for TLS.
   */
  async function addressOf(host: string): Promise<string> {
    if (opts.allowPrivateNetworks) return host;
    if (ipaddr.isValid(host)) {
      if (isForbiddenAddress(host)) throw new ForbiddenAddressError(host);
      return host;
    }
    return new Promise((resolve, reject) =>
      guardedLookup(host, {}, (err, address) => (err ? reject(err) : resolve(address as string))),
    );
  }

  async function transportFor(url: string, timeoutMs: number): Promise<Transport> {
    const key = `${timeoutMs} ${url}`;
    const cached = transports.get(key);
    if (cached) {
      transports.delete(key);
      transports.set(key, cached);
      return cached;
    }
    const { secret, ...named } = smtpOptions(url, timeoutMs);
    const address = await addressOf(named.host);
    const tls = address === named.host ? opts.tls : { ...opts.tls, servername: named.host };
    const options = { ...named, host: address };
    const poolOptions: SMTPPoolOptions & { pool: true } = {
      ...options,
      pool: true,
      maxConnections: 5,
      // One transparent retry on a fresh connection when a pooled one was closed under us.
      maxRequeues: 1,
      logger: false,
      debug: false,
      ...(tls ? { tls } : {}),
    };
    const mailer: Mailer = nodemailer.createTransport(poolOptions);
    const transport = { mailer, address: `${options.host}:${options.port}`, secret };
    if (transports.has(key)) {
      mailer.close(); // another send made it while this one resolved the address
      return transports.get(key)!;
    }
    transports.set(key, transport);
    if (transports.size > maxTransports) {
      const [oldKey, old] = transports.entries().next().value!;
      transports.delete(oldKey);
      old.mailer.close();
    }
    return transport;
  }

  return {
    async send(req: SendRequest): Promise<SendResult> {
      const url = req.smtpUrl ?? opts.defaultSmtpUrl ?? null;
      if (!url) return failure('network_error', "no SMTP transport: set HERALD_SMTP_URL or the endpoint's smtp_url", { permanent: true });
      const to = req.to ?? [];
      if (to.length === 0) return failure('network_error', 'the email has no recipients', { permanent: true });

      let subject: string;
      let text: string;
      let html: string | null;
      try {
        const ctx = templateContext(req);
        const limitMs = opts.renderLimitMs ?? RENDER_LIMIT_MS;
        subject = ((await renderPartInTurn(req, 'subject', ctx, limitMs)) ?? '').replace(/[\r\n]+\s*/g, ' ').trim().slice(0, MAX_SUBJECT);
        text = (await renderPartInTurn(req, 'text', ctx, limitMs)) ?? '';
        html = await renderPartInTurn(req, 'html', ctx, limitMs);
      } catch (err) {
        if (err instanceof TemplateError) return renderFailure(err);
        throw err;
      }

      let transport: Transport;
      try {
        transport = await transportFor(url, req.timeoutMs);
      } catch (err) {
        if (err instanceof ForbiddenAddressError) return failure('network_error', err.message, { permanent: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return failure('network_error', `cannot resolve the SMTP host: ${(err as Error).message}`);
        return failure('network_error', `invalid SMTP URL: ${(err as Error).message}`, { permanent: true });
      }

      const from = req.from ?? opts.defaultFrom;
      const messageId = `<${req.deliveryId}@herald>`;
      const requestHeaders = { from, to: to.join(', '), subject, 'message-id': messageId };
      // Its own controller, not AbortSignal.any: req.signal is shared by every attempt and lives long,
      // and every email in flight listens on it (so no listener-count warning past ten).
      const abort = new AbortController();
      const onAbort = () => abort.abort(req.signal.reason);
      if (req.signal.aborted) onAbort();
      else {
        setMaxListeners(0, req.signal);
        req.signal.addEventListener('abort', onAbort, { once: true });
      }
      const timer = setTimeout(() => abort.abort(new DOMException(`no answer within ${req.timeoutMs} ms`, 'TimeoutError')), req.timeoutMs).unref();
      const signal = abort.signal;
      try {
        const info = await transport.mailer.sendMail({
          from,
          to,
          subject,
          text,
          // An endpoint whose html template is empty gets a text-only message.
          ...(html ? { html } : {}),
          messageId,
          date: req.now(),
          headers: {
            'Auto-Submitted': 'auto-generated',
            'X-Herald-Event': req.event.id,
            'X-Herald-Event-Type': req.event.type,
            'X-Herald-Attempt': String(req.attempt),
          },
          xMailer: opts.userAgent ?? false,
          disableFileAccess: true,
          disableUrlAccess: true,
          signal,
        });
        const response = String(info.response ?? '');
        const rejected = info.rejectedErrors?.map((e) => `${e.recipient ?? '?'} (${e.response ?? e.message})`) ?? [];
        return {
          outcome: 'succeeded',
          status_code: replyCode(response) ?? 250,
          error: rejected.length > 0 ? `delivered to ${info.accepted.length} of ${to.length} recipients; rejected: ${rejected.join('; ')}` : null,
          request_headers: requestHeaders,
          response_headers: null,
          response_body: excerpt(response),
          remote_address: transport.address,
        };
      } catch (err) {
        const d = describe(err as NodemailerError, signal, req.timeoutMs);
        return {
          ...failure(d.outcome, scrub(d.error, transport.secret)),
          status_code: d.status_code,
          response_body: d.response_body,
          request_headers: requestHeaders,
          remote_address: transport.address,
          ...(d.permanent ? { permanent: true } : {}),
        };
      } finally {
        clearTimeout(timer);
        req.signal.removeEventListener('abort', onAbort);
      }
    },

    async close(): Promise<void> {
      for (const t of transports.values()) t.mailer.close();
      transports.clear();
    },
  };
}

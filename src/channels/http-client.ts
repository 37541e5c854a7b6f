// The one outbound HTTP client (undici): a shared keep-alive dispatcher with the address guard,
// connect and total timeouts, no redirects followed, response bodies read up to a cap (4 KiB kept),
// and the remote address of the connection recorded. Every channel that POSTs uses it.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Agent, errors as undiciErrors } from 'undici';
import { parseRetryAfter } from '../domain/retry-policy.js';
import { ForbiddenAddressError, guardedLookup, ipLiteralOf, isForbiddenAddress } from './address-guard.js';
import { RESPONSE_EXCERPT_BYTES, type SendResult, failure } from './channel.js';

export interface HttpPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Header names whose values are replaced by [redacted] in the attempt record. */
  redactHeaders?: string[];
}

/** Bodies larger than this are not read further (the connection is dropped). */
const MAX_BODY_READ = 64 * 1024;

// undici creates its Request synchronously inside dispatch(); tagging it there lets the
// sendHeaders message (which carries the socket) be tied back to the attempt that sent it.
let currentTag: object | null = null;
const tagOf = new WeakMap<object, object>();
const remoteOf = new WeakMap<object, string>();
diagnostics.subscribe('undici:request:create', (msg) => {
  if (currentTag) tagOf.set((msg as { request: object }).request, currentTag);
});
diagnostics.subscribe('undici:client:sendHeaders', (msg) => {
  const { request, socket } = msg as { request: object; socket: Socket };
  const tag = tagOf.get(request);
  if (tag && socket.remoteAddress) remoteOf.set(tag, `${socket.remoteAddress}:${socket.remotePort}`);
});

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function describe(err: unknown): { outcome: 'timeout' | 'network_error'; error: string; permanent?: boolean } {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  const cause = e.cause as { code?: string; message?: string } | undefined;
  if (err instanceof ForbiddenAddressError || cause instanceof ForbiddenAddressError) {
    return { outcome: 'network_error', error: (cause instanceof ForbiddenAddressError ? cause : (err as Error)).message, permanent: true };
  }
  if (
    e.name === 'TimeoutError' ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  ) {
    return { outcome: 'timeout', error: e.message ?? 'timed out' };
  }
  const code = e.code ?? cause?.code;
  return { outcome: 'network_error', error: [code, e.message ?? String(err)].filter(Boolean).join(': ') };
}

export class HttpClient {
  private readonly agent: Agent;

  constructor(private readonly opts: { allowPrivateNetworks: boolean; userAgent: string; connectTimeoutMs?: number }) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      connections: 64,
      connect: {
        timeout: opts.connectTimeoutMs ?? 10_000,
        ...(opts.allowPrivateNetworks ? {} : { lookup: guardedLookup }),
      },
    });
  }

  async post(req: HttpPost): Promise<SendResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': this.opts.userAgent };
    for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
    const redact = new Set((req.redactHeaders ?? []).map((h) => h.toLowerCase()));
    const sent = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, redact.has(k.toLowerCase()) ? '[redacted]' : v]));
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return failure('network_error', `not a valid URL: ${req.url}`, { permanent: true, request_headers: sent });
    }
    const literal = ipLiteralOf(url);
    if (literal && !this.opts.allowPrivateNetworks && isForbiddenAddress(literal)) {
      return failure('network_error', new ForbiddenAddressError(literal).message, { permanent: true, request_headers: sent });
    }

    const tag = {};
    // One controller and one timer per request: AbortSignal.any over AbortSignal.timeout took about 3%
    // of the main thread under delivery load (weak references and more garbage per request).
    const abort = new AbortController();
    const onAbort = () => abort.abort(req.signal.reason);
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => abort.abort(new DOMException(`no answer within ${req.timeoutMs} ms`, 'TimeoutError')), req.timeoutMs).unref();
    const signal = abort.signal;
    try {
      let pending;
      currentTag = tag;
      try {
        pending = this.agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          body: req.body,
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
      } finally {
        currentTag = null;
      }
      const res = await pending;
      const { text, truncated } = await readCapped(res.body);
      const status = res.statusCode;
      const responseHeaders = flatten(res.headers as Record<string, string | string[] | undefined>);
      return {
        outcome: status >= 200 && status < 300 ? 'succeeded' : 'http_error',
        status_code: status,
        error: status >= 200 && status < 300 ? null : `receiver answered ${status}${truncated ? ' (body truncated)' : ''}`,
        request_headers: sent,
        response_headers: responseHeaders,
        response_body: text,
        remote_address: remoteOf.get(tag) ?? null,
        retry_after_s: parseRetryAfter(responseHeaders['retry-after'], Date.now()),
      };
    } catch (err) {
      return { ...failure('network_error', ''), ...describe(err), request_headers: sent, remote_address: remoteOf.get(tag) ?? null };
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads at most MAX_BODY_READ bytes, keeps the first RESPONSE_EXCERPT_BYTES as text, drops the rest. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let read = 0;
  let truncated = false;
  try {
    for await (const chunk of body) {
      if (read < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
      read += chunk.length;
      if (read > MAX_BODY_READ) {
        truncated = true;
        body.destroy();
        break;
      }
    }
  } catch {
    truncated = true;
  }
  const buf = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES);
  return { text: buf.toString('utf8'), truncated: truncated || read > RESPONSE_EXCERPT_BYTES };
}

// The one outbound HTTP client (undici): a shared keep-alive dispatcher with the address guard,
// connect and total timeouts, no redirects followed, response bodies read up to a cap (4 KiB kept),
// and the remote address of the connection recorded. Every channel that POSTs uses it.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
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

export interface HttpClientOptions {
  allowPrivateNetworks: boolean;
  userAgent: string;
  connectTimeoutMs?: number;
}

/** What the channels post through: the HTTP client itself, or its thread (http-thread.ts). */
export interface HttpPoster {
  post(req: HttpPost): Promise<SendResult>;
  close(): Promise<void>;
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

export class HttpClient implements HttpPoster {
  private readonly agent: Agent;
  /** Posts in flight by the signal that aborts them: one listener per signal, not one per post. */
  private readonly bySignal = new WeakMap<AbortSignal, Set<Post>>();

  constructor(private readonly opts: HttpClientOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      connections: 64,
      connect: {
        timeout: opts.connectTimeoutMs ?? 10_000,
        ...(opts.allowPrivateNetworks ? {} : { lookup: guardedLookup }),
      },
    });
  }

  post(req: HttpPost): Promise<SendResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': this.opts.userAgent };
    for (const name in req.headers) headers[name.toLowerCase()] = req.headers[name]!;
    let sent = headers;
    if (req.redactHeaders && req.redactHeaders.length > 0) {
      sent = { ...headers };
      for (const name of req.redactHeaders) if (Object.hasOwn(sent, name.toLowerCase())) sent[name.toLowerCase()] = '[redacted]';
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.resolve(failure('network_error', `not a valid URL: ${req.url}`, { permanent: true, request_headers: sent }));
    }
    const literal = ipLiteralOf(url);
    if (literal && !this.opts.allowPrivateNetworks && isForbiddenAddress(literal)) {
      return Promise.resolve(failure('network_error', new ForbiddenAddressError(literal).message, { permanent: true, request_headers: sent }));
    }
    if (req.signal.aborted) return Promise.resolve(errorResult(req.signal.reason, sent, null));

    return new Promise<SendResult>((resolve) => {
      const post = new Post(sent, (result) => {
        clearTimeout(timer);
        this.bySignal.get(req.signal)?.delete(post);
        resolve(result);
      });
      const timer = setTimeout(() => post.abort(new DOMException(`no answer within ${req.timeoutMs} ms`, 'TimeoutError')), req.timeoutMs).unref();
      this.watch(req.signal).add(post);
      currentTag = post;
      try {
        this.agent.dispatch(
          { origin: url.origin, path: `${url.pathname}${url.search}`, method: 'POST', headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs },
          post,
        );
      } catch (err) {
        post.abort(err);
      } finally {
        currentTag = null;
      }
    });
  }

  private watch(signal: AbortSignal): Set<Post> {
    let posts = this.bySignal.get(signal);
    if (!posts) {
      const all = (posts = new Set());
      this.bySignal.set(signal, all);
      signal.addEventListener('abort', () => {
        for (const p of all) p.abort(signal.reason);
      }, { once: true });
    }
    return posts;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The result of a post that failed before or instead of an answer. */
function errorResult(err: unknown, sent: Record<string, string>, remote: string | null): SendResult {
  return { ...failure('network_error', ''), ...describe(err), request_headers: sent, remote_address: remote };
}

/** Ends the read of a body longer than MAX_BODY_READ (the connection is dropped). */
const TOO_LONG = new Error('response body too long');

/**
 * One POST as an undici dispatch handler: the answer's head and the first bytes of its body are kept,
 * and it settles once, whether by the answer, an error, its timeout or its signal.
 */
class Post implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private reason: unknown = null;
  private settled = false;
  private status = 0;
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];
  private read = 0;

  constructor(
    private readonly sent: Record<string, string>,
    private readonly settle: (result: SendResult) => void,
  ) {}

  abort(reason: unknown): void {
    if (this.settled) return;
    this.reason = reason;
    // Not on a connection yet: it settles now, and is cancelled when it gets one.
    if (this.controller) this.controller.abort(reason as Error);
    else this.finish(errorResult(reason, this.sent, null));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason !== null) controller.abort(this.reason as Error);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = flatten(headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.read < RESPONSE_EXCERPT_BYTES) this.chunks.push(chunk);
    this.read += chunk.length;
    if (this.read > MAX_BODY_READ) controller.abort(TOO_LONG);
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    // A body cut short after the head arrived (too long, timed out, aborted) still counts as the answer.
    if (this.status > 0) this.answered(true);
    else this.finish(errorResult(this.reason ?? err, this.sent, remoteOf.get(this) ?? null));
  }

  private answered(truncated = this.read > RESPONSE_EXCERPT_BYTES): void {
    const status = this.status;
    const ok = status >= 200 && status < 300;
    const text = (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
    this.finish({
      outcome: ok ? 'succeeded' : 'http_error',
      status_code: status,
      error: ok ? null : `receiver answered ${status}${truncated ? ' (body truncated)' : ''}`,
      request_headers: this.sent,
      response_headers: this.headers,
      response_body: text,
      remote_address: remoteOf.get(this) ?? null,
      retry_after_s: parseRetryAfter(this.headers['retry-after'], Date.now()),
    });
  }

  private finish(result: SendResult): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(result);
  }
}

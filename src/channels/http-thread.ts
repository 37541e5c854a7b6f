// The HTTP client on a thread of its own: posts (webhooks, Slack, Discord) are handed to a worker
// thread that runs the HttpClient, and their results come back, so sending and reading answers does
// not share the event loop with ingest and the group commit. It buys +22–93% deliveries/s in
// interleaved A/B runs against the same build without it, at no more CPU per delivery. Nothing on the
// thread writes to the store.
import { Worker } from 'node:worker_threads';
import { type SendResult, failure } from './channel.js';
import type { HttpClientOptions, HttpPost, HttpPoster } from './http-client.js';

/** Why a post was aborted, as it crosses to the thread (an Error's name decides timeout or network error). */
export interface AbortReason {
  name: string;
  message: string;
}

/** To the thread, in order: posts (maybe aborted already), aborts of posts sent before, and close. */
export type ToThread =
  | { kind: 'post'; id: number; post: Omit<HttpPost, 'signal'>; aborted: AbortReason | null }
  | { kind: 'abort'; ids: number[]; reason: AbortReason }
  | { kind: 'close' };

/** From the thread: the posts it answered in one turn of its event loop (none: it has started). */
export type FromThread = Array<{ id: number; result: SendResult }>;

function abortReason(reason: unknown): AbortReason {
  const e = reason as { name?: unknown; message?: unknown } | null;
  return { name: typeof e?.name === 'string' ? e.name : 'AbortError', message: typeof e?.message === 'string' ? e.message : String(reason) };
}

/** Starts the thread: its compiled module, or (running from the TypeScript source, as the tests do) its source through tsx. */
function startWorker(opts: HttpClientOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './http-thread-worker.ts' : './http-thread-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: opts });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: opts });
}

export class HttpThread implements HttpPoster {
  private worker: Worker | null = null;
  /** Settles once the first thread is up (its first message), or failed to start. */
  private readonly firstStart: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, (result: SendResult) => void>();
  /** Posts in flight by the signal that aborts them: one listener per signal, not one per post. */
  private readonly bySignal = new WeakMap<AbortSignal, Set<number>>();
  /** Messages of this turn of the event loop: they cross in one postMessage (one wake-up of the thread). */
  private outbox: ToThread[] = [];
  private closing: Promise<void> | null = null;

  /** Starts the thread at once: it loads while herald opens its store, and the first attempt does not wait for it. */
  constructor(private readonly opts: HttpClientOptions) {
    const worker = this.thread();
    this.firstStart = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('exit', (code) => reject(new Error(`the HTTP thread did not start (exit code ${code})`)));
    });
    this.firstStart.catch(() => {}); // heard by started(), when asked
  }

  /** Resolves once the thread is up; rejects when it could not start. */
  started(): Promise<void> {
    return this.firstStart;
  }

  post(req: HttpPost): Promise<SendResult> {
    if (this.closing) return Promise.resolve(failure('network_error', 'not sent: the HTTP client is closed'));
    const id = this.nextId++;
    const { signal, ...post } = req;
    return new Promise<SendResult>((resolve) => {
      const inFlight = signal.aborted ? null : this.watch(signal);
      inFlight?.add(id);
      this.pending.set(id, (result) => {
        inFlight?.delete(id);
        resolve(result);
      });
      this.send({ kind: 'post', id, post, aborted: signal.aborted ? abortReason(signal.reason) : null });
    });
  }

  /** Lets the posts in flight finish, then stops the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const worker = this.worker;
      if (!worker) return resolve();
      worker.ref(); // the process waits for the thread's last answers
      worker.once('exit', () => resolve());
      this.send({ kind: 'close' });
    });
    return this.closing;
  }

  private watch(signal: AbortSignal): Set<number> {
    let ids = this.bySignal.get(signal);
    if (!ids) {
      const all = (ids = new Set<number>());
      this.bySignal.set(signal, all);
      signal.addEventListener('abort', () => {
        if (all.size > 0) this.send({ kind: 'abort', ids: [...all], reason: abortReason(signal.reason) });
      }, { once: true });
    }
    return ids;
  }

  private send(message: ToThread): void {
    this.outbox.push(message);
    if (this.outbox.length === 1) {
      queueMicrotask(() => {
        const batch = this.outbox;
        this.outbox = [];
        // Once closing, no new thread starts (an abort arriving after the close has nothing to reach).
        const worker = this.closing ? this.worker : this.thread();
        worker?.postMessage(batch);
      });
    }
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.opts);
    worker.unref(); // a thread waiting for work does not keep the process alive
    worker.on('message', (results: FromThread) => {
      for (const { id, result } of results) {
        const settle = this.pending.get(id);
        this.pending.delete(id);
        settle?.(result);
      }
    });
    let crash = '';
    worker.on('error', (err) => {
      crash = `: ${err.message}`; // the exit that follows answers the posts
    });
    worker.once('exit', (code) => {
      this.worker = null;
      // A post the thread never answered is a failed attempt: recorded, and retried like any other.
      for (const [id, settle] of this.pending) {
        this.pending.delete(id);
        settle(failure('network_error', `the HTTP thread stopped (exit code ${code}${crash}) before an answer`));
      }
    });
    this.worker = worker;
    return worker;
  }
}

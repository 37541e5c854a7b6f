// A second ledger writer on a worker thread, for the hottest units of work (ingest): with one thread,
// SQLite, the hash chain and the commit's fsync took about half of what an ingested event costs,
// and the HTTP work waited behind them. The thread has its own connection and its own group commit;
// it and the main thread's writer take turns through a WriteLock, and both chain onto the head they
// read inside their transaction, so the ledger stays one chain.
//
// Units cannot be closures here: the thread imports a module of named units (`unitsModule`, which
// exports createThreadUnits(lock)), and calls carry only the unit's name and plain-data arguments.
// Calls made in one turn of the event loop travel in one message; answers come back the same way,
// each commit's entries first (onCommit), then the results of its units.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HeraldError, type ProblemType } from '../domain/errors.js';
import type { CommitInfo } from './ledger-writer.js';
import type { WriteLock } from './write-lock.js';
import type { WriteTx } from './write-tx.js';

export type ThreadUnit = (tx: WriteTx, ...args: never[]) => Promise<unknown>;
type UnitArgs<F> = F extends (tx: WriteTx, ...args: infer A) => Promise<unknown> ? A : never;
type UnitResult<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;

export interface ThreadedWriterOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'EXTRA';
  lock: WriteLock;
  /** The module of units the thread runs (exports createThreadUnits(lock)). */
  unitsModule: URL;
  onCommit?: (info: CommitInfo) => void;
  onForeignWrite?: () => void;
}

/** An error as it crosses the thread boundary: HeraldErrors keep their problem type. */
export type WireError = { herald: true; type: ProblemType; detail?: string | undefined } | { herald: false; message: string; stack?: string | undefined };

export function toWire(err: unknown): WireError {
  if (err instanceof HeraldError) return { herald: true, type: err.type, detail: err.detail };
  const e = err instanceof Error ? err : new Error(String(err));
  return { herald: false, message: e.message, stack: e.stack };
}

function fromWire(w: WireError): Error {
  if (w.herald) return new HeraldError(w.type, w.detail);
  const e = new Error(`writer thread: ${w.message}`);
  if (w.stack) e.stack = `${e.message}\n${w.stack}`;
  return e;
}

export interface Call {
  id: number;
  unit: string;
  args: unknown[];
}

export type ToThread = { type: 'calls'; calls: Call[] } | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'answers'; commits: CommitInfo[]; results: Array<{ id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError }> }
  | { type: 'closed' }
  | { type: 'failed'; error: WireError };

/**
 * A module a worker thread can load. Under the test runner herald's code is the TypeScript in src/
 * (there is no src/x.js), which a worker thread cannot load: it runs the build in dist/ instead
 * (`npm test` builds first).
 */
export function runnableUrl(url: URL): URL {
  const path = fileURLToPath(url);
  if (existsSync(path)) return url;
  const at = path.lastIndexOf(`${sep}src${sep}`);
  const built = at < 0 ? path : `${path.slice(0, at)}${sep}dist${path.slice(at)}`;
  if (!existsSync(built)) throw new Error(`the writer thread needs ${path} or its build ${built} (run npm run build)`);
  return pathToFileURL(built);
}

export class ThreadedWriter<U extends Record<string, ThreadUnit>> {
  private nextId = 1;
  private queued: Call[] = [];
  private scheduled = false;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private foreignSeen = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly opts: ThreadedWriterOptions,
  ) {
    this.foreignSeen = opts.lock.foreignWrites;
    worker.on('message', (m: FromThread) => this.receive(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closing || code !== 0) this.fail(new Error(`the writer thread exited (code ${code})`));
    });
  }

  static async start<U extends Record<string, ThreadUnit>>(opts: ThreadedWriterOptions): Promise<ThreadedWriter<U>> {
    const worker = new Worker(runnableUrl(new URL('./threaded-writer.worker.js', import.meta.url)), {
      workerData: { path: opts.path, synchronous: opts.synchronous, lock: opts.lock.shared, unitsModule: runnableUrl(opts.unitsModule).href },
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'ready') done(null);
        else if (m.type === 'failed') done(fromWire(m.error));
      };
      const onError = (err: Error) => done(err);
      const onExit = (code: number) => done(new Error(`the writer thread exited during start-up (code ${code})`));
      const done = (err: Error | null) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    return new ThreadedWriter<U>(worker, opts);
  }

  /** The thread is gone (it failed or exited): nothing more can be written through it. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Runs `unit` in the thread's next group commit; resolves once it is durable. */
  run<K extends keyof U & string>(unit: K, ...args: UnitArgs<U[K]>): Promise<UnitResult<U[K]>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.queued.push({ id, unit, args });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          const calls = this.queued;
          this.queued = [];
          this.postCalls(calls);
        });
      }
    });
  }

  /** Lets the thread finish what it was given, then stops it. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (m: FromThread) => m.type === 'closed' && resolve());
        this.worker.once('exit', () => resolve());
      });
      // Calls queued in this turn go first (the thread handles messages in order).
      if (this.queued.length > 0) this.postCalls(this.queued.splice(0));
      try {
        this.worker.postMessage({ type: 'close' } satisfies ToThread);
        await closed;
      } finally {
        await this.worker.terminate();
      }
    })());
  }

  /** A message that cannot be sent (an argument that cannot be cloned) fails only its own calls. */
  private postCalls(calls: Call[]): void {
    try {
      this.worker.postMessage({ type: 'calls', calls } satisfies ToThread);
    } catch (err) {
      for (const c of calls) {
        const p = this.pending.get(c.id);
        this.pending.delete(c.id);
        p?.reject(err);
      }
    }
  }

  private receive(m: FromThread): void {
    if (m.type === 'failed') return this.fail(fromWire(m.error));
    if (m.type !== 'answers') return;
    // The thread saw another process's commit: drop caches now, not at the main writer's next commit.
    if (this.opts.lock.foreignWrites !== this.foreignSeen) {
      this.foreignSeen = this.opts.lock.foreignWrites;
      this.opts.onForeignWrite?.();
    }
    for (const c of m.commits) {
      try {
        this.opts.onCommit?.(c);
      } catch {
        // a listener's failure must not keep the results below from their callers
      }
    }
    for (const r of m.results) {
      const p = this.pending.get(r.id);
      if (!p) continue;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(fromWire(r.error));
    }
  }

  /** The thread is gone: every call waiting on it fails (none was acknowledged, so none is lost). */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(err);
  }
}

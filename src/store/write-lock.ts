// The lock two writers in one process (the main thread's and the writer thread's, each with its own
// SQLite connection) take around every transaction, in shared memory: a FIFO ticket lock, so neither
// can starve the other and neither ever waits in SQLite's busy handler (which sleeps in whole
// milliseconds). Another process writing the same file is still handled by SQLite's own locking.
//
// Next to the lock it holds what the two writers must agree on:
//  - the ledger head that this process wrote last, so a writer can tell its sibling's commits (not a
//    reason to drop caches) from another process's;
//  - a generation number for the active endpoints, bumped inside any transaction that changes them,
//    so the sibling's endpoint cache, read under the same lock, is never stale;
//  - a count of foreign writes either writer noticed, so both drop their caches.
const NEXT_TICKET = 0;
const NOW_SERVING = 1;
const ENDPOINTS_GENERATION = 2;
const FOREIGN_WRITES = 3;
const INT_SLOTS = 4;

// In Node since 16 (V8 8.7); not yet in TypeScript's ES2022 library.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

export class WriteLock {
  private readonly ints: Int32Array;
  private readonly head: Float64Array;
  readonly shared: SharedArrayBuffer;

  /** `shared` comes from another thread's WriteLock (`.shared`); without it, new shared memory. */
  constructor(shared?: SharedArrayBuffer) {
    this.shared = shared ?? new SharedArrayBuffer(INT_SLOTS * 4 + 8);
    this.ints = new Int32Array(this.shared, 0, INT_SLOTS);
    this.head = new Float64Array(this.shared, INT_SLOTS * 4, 1);
    if (!shared) this.head[0] = -1;
  }

  /** Waits (without blocking the event loop) for the lock. */
  async acquire(): Promise<void> {
    const ticket = Atomics.add(this.ints, NEXT_TICKET, 1);
    for (;;) {
      const serving = Atomics.load(this.ints, NOW_SERVING);
      if (serving === ticket) return;
      const w = waitAsync(this.ints, NOW_SERVING, serving);
      if (w.async) await w.value;
    }
  }

  /** Waits for the lock, blocking the thread (for a thread that has nothing else to do meanwhile). */
  acquireSync(): void {
    const ticket = Atomics.add(this.ints, NEXT_TICKET, 1);
    for (;;) {
      const serving = Atomics.load(this.ints, NOW_SERVING);
      if (serving === ticket) return;
      Atomics.wait(this.ints, NOW_SERVING, serving);
    }
  }

  release(): void {
    Atomics.add(this.ints, NOW_SERVING, 1);
    Atomics.notify(this.ints, NOW_SERVING);
  }

  /** The ledger head this process committed last (-1: none yet). Read and written under the lock. */
  get lastHead(): number {
    return this.head[0]!;
  }

  set lastHead(seq: number) {
    this.head[0] = seq;
  }

  get endpointsGeneration(): number {
    return Atomics.load(this.ints, ENDPOINTS_GENERATION);
  }

  bumpEndpointsGeneration(): void {
    Atomics.add(this.ints, ENDPOINTS_GENERATION, 1);
  }

  get foreignWrites(): number {
    return Atomics.load(this.ints, FOREIGN_WRITES);
  }

  noteForeignWrite(): void {
    Atomics.add(this.ints, FOREIGN_WRITES, 1);
    this.bumpEndpointsGeneration();
  }
}

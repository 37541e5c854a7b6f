// The lock the main thread and the writer thread take around every transaction: mutual exclusion
// across threads, with the main thread waiting without blocking its event loop.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runnableUrl } from '../../src/store/threaded-writer.js';
import { WriteLock } from '../../src/store/write-lock.js';

/** A thread that takes the lock `rounds` times, each time a slow read-modify-write of counter[0]. */
function contender(lock: WriteLock, counter: SharedArrayBuffer, rounds: number): Promise<void> {
  const lockModule = runnableUrl(new URL('../../src/store/write-lock.js', import.meta.url)).href;
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.lockModule).then(({ WriteLock }) => {
      const lock = new WriteLock(workerData.lock);
      const c = new Int32Array(workerData.counter);
      for (let i = 0; i < workerData.rounds; i++) {
        lock.acquireSync();
        const v = c[0];
        for (let spin = 0; spin < 2000; spin++) Math.sqrt(spin);
        c[0] = v + 1;
        lock.release();
      }
      parentPort.postMessage('done');
    });`;
  const w = new Worker(code, { eval: true, workerData: { lockModule, lock: lock.shared, counter, rounds } });
  return new Promise((resolve, reject) => {
    w.once('message', () => void w.terminate().then(() => resolve()));
    w.once('error', reject);
  });
}

describe('WriteLock', () => {
  it('lets one thread at a time in: no increment is lost between two threads and the main thread', async () => {
    const lock = new WriteLock();
    const counter = new SharedArrayBuffer(4);
    const c = new Int32Array(counter);
    const threads = [contender(lock, counter, 500), contender(lock, counter, 500)];
    for (let i = 0; i < 300; i++) {
      await lock.acquire();
      const v = c[0]!;
      await new Promise((r) => setImmediate(r)); // hold it across a turn of the event loop
      c[0] = v + 1;
      lock.release();
    }
    await Promise.all(threads);
    expect(c[0]).toBe(1300);
  });

  it('keeps a waiting thread out until the holder releases, without blocking the holder', async () => {
    const lock = new WriteLock();
    const counter = new SharedArrayBuffer(4);
    const c = new Int32Array(counter);
    await lock.acquire();
    const thread = contender(lock, counter, 1);
    await new Promise((r) => setTimeout(r, 100)); // the event loop runs while the thread waits
    expect(Atomics.load(c, 0)).toBe(0);
    lock.release();
    await thread;
    expect(c[0]).toBe(1);
  });

  it('shares the head, the endpoints generation and the foreign-write count', () => {
    const a = new WriteLock();
    const b = new WriteLock(a.shared);
    expect(b.lastHead).toBe(-1);
    a.lastHead = 42;
    expect(b.lastHead).toBe(42);
    const g = b.endpointsGeneration;
    a.bumpEndpointsGeneration();
    expect(b.endpointsGeneration).toBe(g + 1);
    b.noteForeignWrite();
    expect(a.foreignWrites).toBe(1);
    expect(a.endpointsGeneration).toBe(g + 2);
  });
});

// The writer thread (see threaded-writer.ts): its own connection and group commit, running the units
// of `unitsModule` by name. The database is already migrated by the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database.js';
import { type CommitInfo, LedgerWriter } from './ledger-writer.js';
import { type Call, type FromThread, type ThreadUnit, type ToThread, toWire } from './threaded-writer.js';
import { WriteLock } from './write-lock.js';

interface Settings {
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'EXTRA';
  lock: SharedArrayBuffer;
  unitsModule: string;
}

const port = parentPort!;
const settings = workerData as Settings;
const send = (m: FromThread) => port.postMessage(m);

try {
  const lock = new WriteLock(settings.lock);
  const mod = (await import(settings.unitsModule)) as { createThreadUnits(lock: WriteLock): Record<string, ThreadUnit> };
  const units = mod.createThreadUnits(lock);
  const { db } = openDatabase({ path: settings.path, synchronous: settings.synchronous });

  let commits: CommitInfo[] = [];
  let results: Extract<FromThread, { type: 'answers' }>['results'] = [];
  let scheduled = false;
  const answer = () => {
    if (commits.length === 0 && results.length === 0) return;
    send({ type: 'answers', commits, results });
    commits = [];
    results = [];
  };
  // Everything that finished in this turn of the event loop goes back in one message.
  const answerSoon = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      answer();
    });
  };

  const writer = new LedgerWriter(db, {
    clock: () => new Date(),
    lock,
    blockingLock: true,
    // The thread's units (thread-units.ts) take plain data and touch nothing but the transaction.
    rerunnableUnits: true,
    // The same rule as the main writer's (store.ts): endpoint changes drop both threads' endpoint caches.
    onAppend: (entry) => {
      if (entry.kind.startsWith('endpoint.')) lock.bumpEndpointsGeneration();
    },
    onCommit: (info) => {
      commits.push(info);
      answerSoon();
    },
  });

  const run = (call: Call) => {
    const unit = units[call.unit];
    if (!unit) {
      results.push({ id: call.id, ok: false, error: toWire(new Error(`no unit ${call.unit}`)) });
      return answerSoon();
    }
    writer.write((tx) => unit(tx, ...(call.args as never[]))).then(
      (value) => results.push({ id: call.id, ok: true, value }),
      (err: unknown) => results.push({ id: call.id, ok: false, error: toWire(err) }),
    ).finally(answerSoon);
  };

  port.on('message', (m: ToThread) => {
    if (m.type === 'calls') {
      for (const call of m.calls) run(call);
    } else if (m.type === 'close') {
      void writer
        .drain()
        .then(() => db.destroy())
        .then(() => {
          answer();
          send({ type: 'closed' });
          port.close();
        });
    }
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', error: toWire(err) });
}

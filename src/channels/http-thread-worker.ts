// The HTTP thread (see http-thread.ts): runs the HttpClient for the posts the main thread hands over,
// and sends their results back, those answered in one turn of its event loop together.
import { parentPort, workerData } from 'node:worker_threads';
import { type SendResult, failure } from './channel.js';
import { HttpClient, type HttpClientOptions } from './http-client.js';
import type { AbortReason, FromThread, ToThread } from './http-thread.js';

const port = parentPort!;
const client = new HttpClient(workerData as HttpClientOptions);
const inFlight = new Map<number, AbortController>();
let answered: Array<{ id: number; result: SendResult }> = [];

function reasonError(r: AbortReason): Error {
  return Object.assign(new Error(r.message), { name: r.name });
}

function flush(): void {
  if (answered.length === 0) return;
  const results = answered;
  answered = [];
  port.postMessage(results satisfies FromThread);
}

function answer(id: number, result: SendResult): void {
  inFlight.delete(id);
  answered.push({ id, result });
  if (answered.length === 1) setImmediate(flush);
}

port.on('message', (batch: ToThread[]) => {
  for (const m of batch) {
    if (m.kind === 'post') {
      const controller = new AbortController();
      if (m.aborted) controller.abort(reasonError(m.aborted));
      inFlight.set(m.id, controller);
      client.post({ ...m.post, signal: controller.signal }).then(
        (result) => answer(m.id, result),
        (err: unknown) => answer(m.id, failure('network_error', `internal error in the HTTP thread: ${(err as Error).message}`)),
      );
    } else if (m.kind === 'abort') {
      for (const id of m.ids) inFlight.get(id)?.abort(reasonError(m.reason));
    } else {
      // The client closes once its posts in flight are answered; their results go back before the thread ends.
      void client.close().then(() => {
        setImmediate(() => {
          flush();
          port.close();
        });
      });
    }
  }
});

port.postMessage([] satisfies FromThread); // started

// A real webhook receiver on 127.0.0.1 for tests: records every request (headers, body, time) and
// answers as the test scripts it (status, headers, body, delay), or holds requests open.
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  n: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** TCP connections accepted (to prove that nothing reached it). */
  connections: number;
  /** Sets how the next requests are answered: a function of the request, or a fixed reply. */
  reply(r: Reply | ((req: Received) => Reply)): void;
  close(): Promise<void>;
}

export async function startReceiver(initial: Reply | ((req: Received) => Reply) = { status: 200 }): Promise<Receiver> {
  let responder: (req: Received) => Reply = typeof initial === 'function' ? initial : () => initial;
  const open = new Set<ServerResponse>();
  const state = { received: [] as Received[], connections: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Received = { n: state.received.length + 1, path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      state.received.push(rec);
      const r = responder(rec);
      open.add(res);
      res.on('close', () => open.delete(res));
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, r.headers ?? {});
        res.end(r.body ?? 'ok');
      };
      if (r.delayMs) setTimeout(answer, r.delayMs).unref();
      else answer();
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get received() {
      return state.received;
    },
    get connections() {
      return state.connections;
    },
    reply(r) {
      responder = typeof r === 'function' ? r : () => r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

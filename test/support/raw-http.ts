// A raw TCP connection to herald, for what fetch cannot do: trickle a request, stop mid-body, hold a
// connection open, and see exactly what the server wrote and when it closed the socket.
import { connect } from 'node:net';

export interface RawConnection {
  /** Everything the server wrote so far (latin1). */
  text(): string;
  write(data: string): void;
  /** Resolves once the connection is closed (by either side). */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Resolves when `text()` matches, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  destroy(): void;
}

export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  let isClosed = false;
  const listeners = new Set<() => void>();
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  socket.on('data', (d) => {
    text += d.toString('latin1');
    for (const l of listeners) l();
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return {
    text: () => text,
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    closed,
    isClosed: () => isClosed,
    waitFor: (pattern, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    destroy: () => socket.destroy(),
  };
}

/** Resolves `'closed'` when the connection closes within `ms`, `'open'` otherwise. */
export async function closedWithin(conn: RawConnection, ms: number): Promise<'closed' | 'open'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([conn.closed.then(() => 'closed' as const), new Promise<'open'>((r) => (timer = setTimeout(() => r('open'), ms)))]);
  clearTimeout(timer);
  return outcome;
}

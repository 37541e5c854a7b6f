// The HTTP server's limits: a body refused as too large while it is still arriving (chunked) closes
// its connection; slow clients are cut off by the header and request timeouts; connections beyond the
// cap are refused; a client that goes away mid-body is not an error of herald's.
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueKey } from '../support/api.js';
import { type TestHerald, finish, startTestHerald, trackFailures, useHerald } from '../support/herald.js';
import { type RawConnection, closedWithin, openRaw } from '../support/raw-http.js';

describe('a chunked body over the limit', () => {
  const herald = useHerald({ HERALD_MAX_BODY_BYTES: 1024 });

  it('answers 413 with Connection: close, and the server closes the socket', async () => {
    const h = herald();
    const { hostname, port } = new URL(h.url);
    const socket = connect(Number(port), hostname);
    let text = '';
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\n` +
        'Idempotency-Key: big-1\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n',
    );
    const chunk = `{"type":"big.one","data":{"pad":"${'x'.repeat(3000)}"}}`;
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`); // the terminating chunk never comes
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => r('still open'), 5000)))]);
    clearTimeout(timer);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(outcome).toBe('closed');
  });
});

const postHead = (h: TestHerald, contentLength: number) =>
  `POST /v1/events HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\n` +
  `Idempotency-Key: ${uniqueKey('raw')}\r\nContent-Length: ${contentLength}\r\n\r\n`;

/** Writes one byte of `data` every `everyMs` until the connection closes or the data runs out. */
async function trickle(conn: RawConnection, data: string, everyMs: number): Promise<void> {
  for (const ch of data) {
    if (conn.isClosed()) return;
    conn.write(ch);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('slow clients', () => {
  // node's defaults would keep such clients for 60 s (headers) and 300 s (request)
  const herald = useHerald({ HERALD_HEADERS_TIMEOUT_MS: 300, HERALD_REQUEST_TIMEOUT_MS: 600 });

  it('a body trickled slower than HERALD_REQUEST_TIMEOUT_MS is cut off with 408 and its connection closed', async () => {
    const h = herald();
    const conn = await openRaw(h.url);
    const started = performance.now();
    const body = JSON.stringify({ type: 'slow.body', data: { pad: 'x'.repeat(400) } });
    conn.write(postHead(h, body.length));
    void trickle(conn, body, 50); // 400+ bytes at 20 bytes/s: it would take 20 s
    expect(await closedWithin(conn, 10_000)).toBe('closed');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(conn.text()).toMatch(/^HTTP\/1\.1 408 /);
    const events = await h.request<{ data: unknown[] }>('GET', '/v1/events?type=slow.body');
    expect(events.body.data).toEqual([]);
  });

  it('headers trickled slower than HERALD_HEADERS_TIMEOUT_MS are cut off with 408', async () => {
    const h = herald();
    const conn = await openRaw(h.url);
    conn.write('GET /healthz HTTP/1.1\r\n');
    void trickle(conn, `Host: herald\r\nX-Slow: ${'y'.repeat(400)}\r\n\r\n`, 50);
    expect(await closedWithin(conn, 10_000)).toBe('closed');
    expect(conn.text()).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('the connection cap', () => {
  const herald = useHerald({ HERALD_MAX_CONNECTIONS: 3, HERALD_KEEP_ALIVE_TIMEOUT_MS: 60_000 }, { captureLogs: true });
  const healthz = 'GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n';

  it('closes connections beyond HERALD_MAX_CONNECTIONS unanswered, and takes new ones once one goes', async () => {
    const h = herald();
    const open: RawConnection[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const conn = await openRaw(h.url);
        open.push(conn);
        conn.write(healthz);
        await conn.waitFor(/^HTTP\/1\.1 200 [\s\S]*"ok"/);
      }
      const refused = await openRaw(h.url);
      refused.write(healthz);
      expect(await closedWithin(refused, 5000)).toBe('closed');
      expect(refused.text()).toBe('');
      // said at once, even in herald's first seconds
      expect(h.logs.filter((l) => l.msg === 'connections refused: HERALD_MAX_CONNECTIONS are open')).toHaveLength(1);

      open.shift()!.destroy();
      // the server sees the close a moment later; a new connection is taken once it has
      let answered = false;
      for (let i = 0; i < 50 && !answered; i++) {
        const conn = await openRaw(h.url);
        conn.write(healthz);
        answered = await conn.waitFor(/^HTTP\/1\.1 200 /, 1000).then(
          () => true,
          () => false,
        );
        if (answered) open.push(conn);
        else conn.destroy();
      }
      expect(answered).toBe(true);
    } finally {
      for (const c of open) c.destroy();
    }
  });
});

describe('a client that goes away mid-body', () => {
  let h: TestHerald | undefined;
  const failures = trackFailures();
  afterAll(() => finish(h, failures.failed));

  it('is logged at debug level, not as an unhandled error', async () => {
    h = await startTestHerald({}, { captureLogs: true });
    const conn = await openRaw(h.url);
    conn.write(postHead(h, 1000) + '{"type":"gone.away","data":{"pad":"');
    await new Promise((r) => setTimeout(r, 200)); // herald is reading the body
    conn.destroy();
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && !h.logs.some((l) => /client closed the connection/.test(l.msg))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(h.logs.filter((l) => l.level >= 50 || /unhandled/.test(l.msg)).map((l) => l.msg)).toEqual([]);
    expect(h.logs.find((l) => /client closed the connection/.test(l.msg))).toMatchObject({ level: 20, method: 'POST', path: '/v1/events' });
    expect((await h.request('GET', '/healthz')).status).toBe(200);
  });
});

// A body refused as too large while it is still arriving (chunked) closes its connection: the rest
// of the body must not be read as the next request on a keep-alive socket.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useHerald } from '../support/herald.js';

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

// The shared HTTP client against real servers on 127.0.0.1, in-process and on its thread (as herald
// runs it): an answer whose body stalls after its head, one abort signal for many posts, redacted
// headers; and the thread stopping under posts in flight.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HttpClient, type HttpPoster } from '../../src/channels/http-client.js';
import { HttpThread } from '../../src/channels/http-thread.js';

let server: Server | undefined;
const options = { allowPrivateNetworks: true, userAgent: 'herald/test' };
const clients: Array<[string, HttpPoster]> = [
  ['HttpClient', new HttpClient(options)],
  ['HttpThread', new HttpThread(options)],
];

afterAll(() => Promise.all(clients.map(([, c]) => c.close())));

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A server whose answers `handle` writes; resolves to its URL. */
async function serve(handle: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handle);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe.each(clients)('%s.post', (_name, http) => {
  it('keeps an answer whose body stalls after its head: the status counts, the body is what came', async () => {
    const url = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial'); // and never ends
    });
    const started = Date.now();
    const result = await http.post({ url, headers: {}, body: '{}', timeoutMs: 300, signal: new AbortController().signal });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ outcome: 'succeeded', status_code: 200, response_body: 'partial' });
    expect(result.response_headers).toMatchObject({ 'content-type': 'text/plain' });
    expect(result.remote_address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('aborts every post in flight on one signal, and answers a post on an aborted signal without sending it', async () => {
    let arrived = 0;
    const url = await serve((req) => {
      arrived++;
      req.resume(); // never answers
    });
    const stop = new AbortController();
    const posts = [1, 2, 3].map(() => http.post({ url, headers: {}, body: '{}', timeoutMs: 10_000, signal: stop.signal }));
    while (arrived < 3) await new Promise((r) => setTimeout(r, 10));
    stop.abort(new Error('herald is stopping'));
    for (const r of await Promise.all(posts)) expect(r).toMatchObject({ outcome: 'network_error', status_code: null, error: expect.stringMatching(/stopping/) });
    const late = await http.post({ url, headers: {}, body: '{}', timeoutMs: 10_000, signal: stop.signal });
    expect(late).toMatchObject({ outcome: 'network_error', error: expect.stringMatching(/stopping/) });
    expect(arrived).toBe(3);
  });

  it('times out a post still waiting for a free connection (all 64 are busy), and never sends it', async () => {
    let arrived = 0;
    const url = await serve((req) => {
      arrived++;
      req.resume(); // never answers: every connection stays busy until its post times out
    });
    const post = (timeoutMs: number) => http.post({ url, headers: {}, body: '{}', timeoutMs, signal: new AbortController().signal });
    const busy = Array.from({ length: 64 }, () => post(1_000));
    while (arrived < 64) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    expect(await post(200)).toMatchObject({ outcome: 'timeout', status_code: null });
    expect(Date.now() - started).toBeLessThan(900); // it did not wait for a connection to come free
    for (const r of await Promise.all(busy)) expect(r).toMatchObject({ outcome: 'timeout' });
    await new Promise((r) => setTimeout(r, 200)); // the freed connections would have carried it by now
    expect(arrived).toBe(64);
  });

  it('records the headers it sent, with the values of the named ones redacted', async () => {
    let seen: Record<string, unknown> = {};
    const url = await serve((req, res) => {
      seen = req.headers;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const result = await http.post({ url, headers: { 'X-Token': 'hunter2', 'webhook-id': 'msg_1' }, body: '{}', timeoutMs: 5_000, signal: new AbortController().signal, redactHeaders: ['X-Token'] });
    expect(seen['x-token']).toBe('hunter2');
    expect(result.request_headers).toEqual({ 'content-type': 'application/json', 'user-agent': 'herald/test', 'x-token': '[redacted]', 'webhook-id': 'msg_1' });
  });
});

describe('HttpThread', () => {
  it('answers the posts in flight as network errors when its thread stops, and starts a new thread for the next post', async () => {
    let arrived = 0;
    const url = await serve((req, res) => {
      arrived++;
      req.resume();
      if (arrived > 2) req.on('end', () => res.end('ok')); // the first two are never answered
    });
    const http = new HttpThread(options);
    const post = () => http.post({ url, headers: {}, body: '{}', timeoutMs: 10_000, signal: new AbortController().signal });
    const stuck = [post(), post()];
    while (arrived < 2) await new Promise((r) => setTimeout(r, 10));
    await (http as unknown as { worker: Worker }).worker.terminate(); // as if the thread had crashed
    for (const r of await Promise.all(stuck)) expect(r).toMatchObject({ outcome: 'network_error', error: expect.stringMatching(/HTTP thread stopped/) });
    expect(await post()).toMatchObject({ outcome: 'succeeded', status_code: 200 });
    await http.close();
    expect(await post()).toMatchObject({ outcome: 'network_error', error: expect.stringMatching(/closed/) });
  });

  it('lets a post in flight finish when it closes', async () => {
    const url = await serve((req, res) => {
      req.resume();
      setTimeout(() => res.end('late'), 200);
    });
    const http = new HttpThread(options);
    const answer = http.post({ url, headers: {}, body: '{}', timeoutMs: 5_000, signal: new AbortController().signal });
    await new Promise((r) => setTimeout(r, 50));
    await http.close();
    expect(await answer).toMatchObject({ outcome: 'succeeded', response_body: 'late' });
  });
});

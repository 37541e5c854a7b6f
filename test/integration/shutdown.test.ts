// Stopping herald while keep-alive clients keep sending: the grace bounds the whole stop. Answers
// given while stopping close their connection, new connections are refused, and a request still
// arriving when the grace runs out is cut off.
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueKey } from '../support/api.js';
import { type TestHerald, finish, startTestHerald, trackFailures } from '../support/herald.js';
import { closedWithin, openRaw } from '../support/raw-http.js';
import { waitFor } from '../support/receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(agent: Agent, url: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('stopping while keep-alive clients keep sending', () => {
  let h: TestHerald | undefined;
  const failures = trackFailures();
  afterAll(() => finish(h, failures.failed));

  it('ends within HERALD_SHUTDOWN_GRACE_MS: answers close their connections, new ones are refused, a request still arriving is cut off', async () => {
    const graceMs = 1000;
    h = await startTestHerald({ HERALD_SHUTDOWN_GRACE_MS: graceMs });
    const url = `${h.url}/healthz`;

    // a request whose body never finishes: only the end of the grace ends it
    const hanging = await openRaw(h.url);
    hanging.write(
      `POST /v1/events HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\n` +
        `Idempotency-Key: ${uniqueKey('hang')}\r\nContent-Length: 1000\r\n\r\n{"type":"never.finished",`,
    );

    let stopStartedAt = Infinity;
    let giveUpAt = Infinity;
    let stopped = false;
    const loops = 4;
    const stats = Array.from({ length: loops }, () => ({ before: 0, after: [] as Array<string | undefined>, refused: 0 }));
    const hammer = async (i: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stopped && performance.now() < giveUpAt) {
          const sentAt = performance.now();
          try {
            const res = await get(agent, url);
            if (sentAt > stopStartedAt) stats[i]!.after.push(`${res.status} ${res.headers.connection}`);
            else stats[i]!.before++;
          } catch {
            if (sentAt > stopStartedAt) stats[i]!.refused++;
            await sleep(5);
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const hammering = Promise.all(Array.from({ length: loops }, (_, i) => hammer(i)));
    await waitFor('every client to be answered on its kept-alive connection', () => stats.every((s) => s.before >= 3), 10_000);

    stopStartedAt = performance.now();
    giveUpAt = stopStartedAt + graceMs + 8000; // without a bound, the stop would wait for the clients
    await Promise.race([h.stop(), sleep(graceMs + 8000)]);
    const stopMs = performance.now() - stopStartedAt;
    stopped = true;
    await hammering;

    expect(stopMs).toBeLessThan(graceMs + 3000);
    expect(await closedWithin(hanging, 0)).toBe('closed');
    for (const s of stats) {
      expect(s.before).toBeGreaterThan(0); // the client was sending on a kept-alive connection
      // at most one answer once stopping began, and it closed its connection; the rest were refused
      expect(s.after.length).toBeLessThanOrEqual(1);
      for (const a of s.after) expect(a).toBe('200 close');
      expect(s.refused).toBeGreaterThan(0);
    }
    const events = await startTestHerald({ HERALD_ADMIN_KEY: h.adminKey, HERALD_DB: h.dbPath }, { dir: h.dir });
    try {
      expect((await events.request<{ data: unknown[] }>('GET', '/v1/events?type=never.finished')).body.data).toEqual([]);
    } finally {
      await events.stop();
    }
  });
});

// The wall clock jumps an hour ahead while an attempt is in flight: by the clock its lease ran out,
// but this process still holds it, so the reaper leaves it alone. The receiver gets it once, and it is
// recorded as sent, not interrupted.
import { describe, expect, it } from 'vitest';
import { createEndpoint, getDelivery, ledgerEntries, postEvent, waitForDelivery } from '../support/deliveries.js';
import { finish, startTestHerald, trackFailures } from '../support/herald.js';
import { startReceiver, waitFor } from '../support/receiver.js';

describe('a wall-clock step of +1 h during an attempt', () => {
  const failures = trackFailures();

  it('does not take back the attempt this process still holds: sent once, recorded succeeded', async () => {
    let offsetMs = 0;
    const clock = () => new Date(Date.now() + offsetMs);
    const holdMs = 2500;
    const rx = await startReceiver({ status: 200, delayMs: holdMs });
    // the reaper looks every second; the lease is the endpoint's timeout + 100 ms
    const h = await startTestHerald({ HERALD_MAINTENANCE_CRON: '* * * * * *', HERALD_LEASE_MARGIN_MS: 100 }, { clock });
    try {
      await createEndpoint(h, { channel: 'webhook', url: `${rx.url}/slow`, events: ['step.*'], timeout_ms: 10_000 });
      const ev = await postEvent(h, { type: 'step.job' });
      const id = ev.deliveries[0]!.id;
      await waitFor('the attempt to reach the receiver', () => rx.received.length === 1, 5000);
      offsetMs = 3_600_000;
      expect((await getDelivery(h, id)).status).toBe('delivering');
      const leases = (await ledgerEntries(h)).filter((e) => e.kind === 'attempts.leased').flatMap((e) => e.body.leases as Array<{ delivery_id: string; lease_until: string }>);
      const lease = leases.find((l) => l.delivery_id === id)!;
      expect(Date.parse(lease.lease_until)).toBeLessThan(clock().getTime()); // by the clock, the lease has run out

      const d = await waitForDelivery(h, id, (x) => x.status !== 'delivering', holdMs + 5000);
      await new Promise((r) => setTimeout(r, 1500)); // more reaper ticks, in case one comes late
      expect(rx.received).toHaveLength(1);
      expect(d.status).toBe('succeeded');
      const after = await getDelivery(h, id);
      expect(after.attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      const recorded = (await ledgerEntries(h)).filter((e) => e.kind.startsWith('attempt') && e.body.delivery_id === id);
      expect(recorded.map((e) => [e.kind, e.body.outcome])).toEqual([['attempt.recorded', 'succeeded']]);
    } finally {
      await rx.close();
      await finish(h, failures.failed);
    }
  });
});

// Per-minute activity counts folded into a chart's buckets.
import { describe, expect, it } from 'vitest';
import { bucketed } from '../../src/services/activity.js';

describe('bucketed', () => {
  it('sums each result into its bucket and leaves out what falls outside or is not a result', () => {
    const from = new Date('2026-12-02T10:00:00Z');
    const to = new Date('2026-12-02T10:30:00Z');
    const s = bucketed(
      [
        { minute: '2026-12-02T10:01:00.000Z', endpoint_id: 'ep_a', what: 'succeeded', n: 3 },
        { minute: '2026-12-02T10:14:00.000Z', endpoint_id: 'ep_b', what: 'succeeded', n: 2 },
        { minute: '2026-12-02T10:15:00.000Z', endpoint_id: 'ep_a', what: 'dead', n: 1 },
        { minute: '2026-12-02T10:20:00.000Z', endpoint_id: null, what: 'received', n: 9 },
        { minute: '2026-12-02T09:59:00.000Z', endpoint_id: 'ep_a', what: 'failed', n: 7 },
      ],
      from,
      to,
      15 * 60_000,
    );
    expect(s.bucket_s).toBe(900);
    expect(s.data[0]).toEqual([Date.parse('2026-12-02T10:00:00Z') / 1000, Date.parse('2026-12-02T10:15:00Z') / 1000]);
    expect(s.data.slice(1)).toEqual([[5, 0], [0, 0], [0, 1]]); // succeeded, failed, dead
    expect(s.totals).toEqual({ succeeded: 5, failed: 0, dead: 1 });
  });
});

// Where a delivery stands after an attempt: retry arithmetic with a fixed clock and random source.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE_S, maxAttempts } from '../../src/domain/retry-policy.js';
import { nextStep } from '../../src/engine/outcome.js';

const now = new Date('2026-01-01T00:00:00.000Z');
const mid = () => 0.5; // no jitter

describe('nextStep', () => {
  it('success ends the delivery; permanent failures are dead at once', () => {
    expect(nextStep({ outcome: 'succeeded', status_code: 200 }, null, 1, now, mid)).toEqual({ status: 'succeeded', next_attempt_at: null });
    for (const code of [400, 401, 404, 410, 302]) {
      expect(nextStep({ outcome: 'http_error', status_code: code }, null, 1, now, mid).status).toBe('dead');
    }
    expect(nextStep({ outcome: 'network_error', permanent: true }, null, 1, now, mid).status).toBe('dead');
    expect(nextStep({ outcome: 'smtp_error', status_code: 550 }, null, 1, now, mid).status).toBe('dead');
  });

  it('retries transient failures on the explicit schedule, then goes dead', () => {
    const policy = { schedule_s: [5, 30] };
    expect(nextStep({ outcome: 'http_error', status_code: 500 }, policy, 1, now, mid)).toEqual({ status: 'failed', next_attempt_at: '2026-01-01T00:00:05.000Z' });
    expect(nextStep({ outcome: 'timeout' }, policy, 2, now, mid)).toEqual({ status: 'failed', next_attempt_at: '2026-01-01T00:00:30.000Z' });
    expect(nextStep({ outcome: 'http_error', status_code: 503 }, policy, 3, now, mid)).toEqual({ status: 'dead', next_attempt_at: null });
    expect(nextStep({ outcome: 'smtp_error', status_code: 451 }, policy, 1, now, mid).status).toBe('failed');
  });

  it('honours Retry-After over the schedule, bounded to an hour', () => {
    const policy = { schedule_s: [600] };
    expect(nextStep({ outcome: 'http_error', status_code: 429, retry_after_s: 2 }, policy, 1, now, mid).next_attempt_at).toBe('2026-01-01T00:00:02.000Z');
    expect(nextStep({ outcome: 'http_error', status_code: 503, retry_after_s: 86_400 }, policy, 1, now, mid).next_attempt_at).toBe('2026-01-01T01:00:00.000Z');
  });

  it('an interruption is retried at once within the same budget', () => {
    expect(nextStep({ outcome: 'interrupted' }, { schedule_s: [60] }, 1, now, mid)).toEqual({ status: 'failed', next_attempt_at: now.toISOString() });
    expect(nextStep({ outcome: 'interrupted' }, { schedule_s: [60] }, 2, now, mid).status).toBe('dead');
  });

  it('the default schedule spans about 1.5 days over 12 attempts, jittered by at most 10 %', () => {
    expect(maxAttempts(null)).toBe(12);
    let at = now.getTime();
    for (let n = 1; n < 12; n++) {
      const step = nextStep({ outcome: 'http_error', status_code: 500 }, null, n, new Date(at), mid);
      expect(step.status).toBe('failed');
      at = Date.parse(step.next_attempt_at!);
    }
    const totalDays = (at - now.getTime()) / 86_400_000;
    expect(totalDays).toBeGreaterThan(1.4);
    expect(totalDays).toBeLessThan(1.7);
    expect(nextStep({ outcome: 'http_error', status_code: 500 }, null, 12, new Date(at), mid).status).toBe('dead');
    const low = nextStep({ outcome: 'timeout' }, null, 1, now, () => 0).next_attempt_at!;
    const high = nextStep({ outcome: 'timeout' }, null, 1, now, () => 0.999999).next_attempt_at!;
    expect((Date.parse(low) - now.getTime()) / 1000).toBeCloseTo(DEFAULT_SCHEDULE_S[0]! * 0.9, 2);
    expect((Date.parse(high) - now.getTime()) / 1000).toBeCloseTo(DEFAULT_SCHEDULE_S[0]! * 1.1, 2);
  });

  it('exponential backoff with jitter stays within half-step and step, capped at max_s', () => {
    const policy = { max_attempts: 10, base_s: 10, max_s: 100 };
    for (const [n, step] of [[1, 10], [2, 20], [3, 40], [5, 100], [9, 100]] as const) {
      const lo = Date.parse(nextStep({ outcome: 'timeout' }, policy, n, now, () => 0).next_attempt_at!) - now.getTime();
      const hi = Date.parse(nextStep({ outcome: 'timeout' }, policy, n, now, () => 0.999999).next_attempt_at!) - now.getTime();
      expect(lo).toBeCloseTo((step / 2) * 1000, 0);
      expect(hi).toBeLessThanOrEqual(step * 1000);
    }
    expect(nextStep({ outcome: 'timeout' }, policy, 10, now, mid).status).toBe('dead');
  });
});

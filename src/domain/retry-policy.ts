// Retry rules: which outcomes are worth another try, and when the next one is due.
// Pure: the caller passes the attempt count, the outcome and a random source.

export type RetryPolicy =
  | { schedule_s: number[] }
  | { max_attempts: number; base_s: number; max_s: number };

/** The default schedule: delays after each failed attempt, about 1.5 days in total (12 attempts). */
export const DEFAULT_SCHEDULE_S = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 36_000, 43_200];
/** Jitter applied to the default schedule (±10 %) so retries of many deliveries spread out. */
export const DEFAULT_JITTER = 0.1;
/** A receiver's Retry-After (or Discord's retry_after) is honoured up to this bound. */
export const MAX_RETRY_AFTER_S = 3600;

export type Outcome = 'succeeded' | 'http_error' | 'timeout' | 'network_error' | 'smtp_error' | 'interrupted';

export interface OutcomeFacts {
  outcome: Outcome;
  /** HTTP status, or the SMTP reply code for email. */
  status_code?: number | null | undefined;
  /** Set by a channel when the failure can never succeed on retry (e.g. refused address, bad config). */
  permanent?: boolean | undefined;
  /** Seconds the receiver asked us to wait (Retry-After, Discord's retry_after). */
  retry_after_s?: number | null | undefined;
}

export type Verdict = 'succeeded' | 'retry' | 'permanent';

export function classify(facts: OutcomeFacts): Verdict {
  const { outcome, status_code: code } = facts;
  if (outcome === 'succeeded') return 'succeeded';
  if (facts.permanent) return 'permanent';
  if (outcome === 'timeout' || outcome === 'network_error' || outcome === 'interrupted') return 'retry';
  if (outcome === 'smtp_error') return code != null && code >= 500 ? 'permanent' : 'retry';
  // http_error: 408, 429 and 5xx are transient; other 4xx and any 3xx (redirects are not followed) are final.
  if (code == null) return 'retry';
  if (code === 408 || code === 429 || code >= 500) return 'retry';
  return 'permanent';
}

/** How many attempts a policy allows in one retry cycle. */
export function maxAttempts(policy: RetryPolicy | null | undefined): number {
  if (!policy) return DEFAULT_SCHEDULE_S.length + 1;
  return 'schedule_s' in policy ? policy.schedule_s.length + 1 : policy.max_attempts;
}

/**
 * Seconds to wait after the `attemptInCycle`-th failed attempt (1-based), or null when the policy is
 * exhausted. `random` returns a number in [0, 1).
 */
export function retryDelayS(
  policy: RetryPolicy | null | undefined,
  attemptInCycle: number,
  random: () => number,
  retryAfterS?: number | null,
): number | null {
  if (attemptInCycle >= maxAttempts(policy)) return null;
  let delay: number;
  if (!policy) {
    const base = DEFAULT_SCHEDULE_S[attemptInCycle - 1] ?? DEFAULT_SCHEDULE_S[DEFAULT_SCHEDULE_S.length - 1]!;
    delay = base * (1 - DEFAULT_JITTER + 2 * DEFAULT_JITTER * random());
  } else if ('schedule_s' in policy) {
    delay = policy.schedule_s[attemptInCycle - 1] ?? 0;
  } else {
    // Exponential with "equal jitter": half the step fixed, half random, capped at max_s.
    const step = Math.min(policy.max_s, policy.base_s * 2 ** (attemptInCycle - 1));
    delay = step / 2 + (step / 2) * random();
  }
  if (retryAfterS != null && Number.isFinite(retryAfterS) && retryAfterS >= 0) {
    delay = Math.min(retryAfterS, MAX_RETRY_AFTER_S);
  }
  return Math.max(0, delay);
}

/** Parses a Retry-After header: delta-seconds or an HTTP date, relative to `nowMs`. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  // An HTTP-date starts with the day's name (all three of RFC 9110's forms); anything else, such as
  // "-5", which Date.parse would read as the year -5, is not a Retry-After.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, (at - nowMs) / 1000);
}

// Where a delivery stands after an attempt: pure arithmetic over the retry policy.
import { type OutcomeFacts, type RetryPolicy, classify, maxAttempts, retryDelayS } from '../domain/retry-policy.js';

export interface NextStep {
  status: 'succeeded' | 'failed' | 'dead';
  next_attempt_at: string | null;
}

/**
 * `attemptInCycle` counts attempts since the delivery was created or last redelivered/recovered.
 * An interruption (herald's own crash or shutdown) is retried at once, within the same budget.
 */
export function nextStep(
  facts: OutcomeFacts,
  policy: RetryPolicy | null,
  attemptInCycle: number,
  now: Date,
  random: () => number = Math.random,
): NextStep {
  const verdict = classify(facts);
  if (verdict === 'succeeded') return { status: 'succeeded', next_attempt_at: null };
  if (verdict === 'permanent') return { status: 'dead', next_attempt_at: null };
  if (facts.outcome === 'interrupted') {
    return attemptInCycle >= maxAttempts(policy) ? { status: 'dead', next_attempt_at: null } : { status: 'failed', next_attempt_at: now.toISOString() };
  }
  const delay = retryDelayS(policy, attemptInCycle, random, facts.retry_after_s);
  if (delay === null) return { status: 'dead', next_attempt_at: null };
  return { status: 'failed', next_attempt_at: new Date(now.getTime() + delay * 1000).toISOString() };
}

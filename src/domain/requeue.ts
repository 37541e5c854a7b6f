// Bulk requeue ("retry all matching"): which deliveries a job may touch, and the filters it is given
// as the ledger records them.
/**
 * What a bulk requeue touches, as single redelivery allows: settled deliveries (succeeded, failed,
 * dead), never one queued or in flight (pending, delivering) or cancelled; and only to a live endpoint.
 */
export const REQUEUABLE_STATUSES = ['succeeded', 'failed', 'dead'] as const;

/**
 * Which deliveries, as the deliveries list filters them: exact endpoint, event, status and channel; an
 * event type (`job.failed`, or `job.*` / `job_*` as in endpoint filters); created in [since, until).
 * Times are RFC 3339 UTC. Only the filters given are present.
 */
export interface DeliveryMatch {
  endpoint_id?: string | undefined;
  event_id?: string | undefined;
  status?: string | undefined;
  channel?: string | undefined;
  type?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export const MATCH_KEYS = ['endpoint_id', 'event_id', 'status', 'channel', 'type', 'since', 'until'] as const satisfies ReadonlyArray<keyof DeliveryMatch>;

/** The filters given, without the absent ones (what the ledger records and the API shows). */
export function matchOf(input: DeliveryMatch): DeliveryMatch {
  const out: DeliveryMatch = {};
  for (const k of MATCH_KEYS) if (input[k] !== undefined) out[k] = input[k];
  return out;
}

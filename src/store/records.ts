// What a store returns: herald's state as domain values (no row types, no column names), and the
// filters the API and the engine read by. Every store implementation speaks these.
import type { Channel, EndpointRecord } from '../domain/endpoint.js';
import type { ChainBreak, DeliveryStatus, Role, Trigger } from '../domain/ledger-entry.js';
import type { DeliveryMatch } from '../domain/requeue.js';
import type { Outcome } from '../domain/retry-policy.js';

export interface Delivery {
  id: string;
  event_id: string;
  endpoint_id: string | null;
  channel: Channel;
  status: DeliveryStatus;
  next_attempt_at: string | null;
  /** Attempts made so far (while `delivering`, counting the one in flight). */
  attempts: number;
  /** Attempts before the current retry cycle (a redelivery or recovery starts a new one). */
  cycle_start: number;
  /** What the next (or in-flight) attempt is, and who asked for it. */
  next_trigger: Trigger;
  next_actor: string;
  lease_until: string | null;
  last_outcome: Outcome | null;
  recipients: string[] | null;
  created_at: string;
  updated_at: string;
  /** Held for a digest: the digest delivery that carries it. */
  digest_id: string | null;
  /** A digest delivery: the events it carries, oldest first. */
  digest_event_ids: string[] | null;
  /** Its event's type (a digest's: the newest event it carries). */
  event_type: string | null;
}

/** A waiting delivery as a lease reads it: what its attempt needs to be sent and recorded. */
export type DueDelivery = Pick<
  Delivery,
  'id' | 'event_id' | 'endpoint_id' | 'channel' | 'attempts' | 'cycle_start' | 'next_trigger' | 'next_actor' | 'recipients' | 'digest_event_ids'
>;

export interface AttemptView {
  n: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  outcome: Outcome | null;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
  trigger: Trigger;
  actor: string;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  remote_address: string | null;
}

/** An endpoint: its recorded configuration plus its live state (enabled, secrets, health). */
export interface StoredEndpoint extends EndpointRecord {
  seq: number;
  disabled_reason: string | null;
  secret_sealed: string | null;
  prev_secret_sealed: string | null;
  prev_secret_expires_at: string | null;
  failing_since: string | null;
  consecutive_dead: number;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface StoredIdempotency {
  fingerprint: string;
  event_id: string;
  status: number;
  response_json: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
}

/** A ledger entry as stored: the body is its canonical JSON text, exactly what was hashed. */
export interface StoredEntry {
  seq: number;
  at: string;
  kind: string;
  stream: string;
  actor: string;
  body: string;
  prev_hash: string;
  hash: string;
}

/** How many of one thing happened in one minute (`minute` is its start, RFC 3339). */
export interface ActivityCount {
  minute: string;
  /** The endpoint of an attempt (null: ad-hoc recipients, or an event received). */
  endpoint_id: string | null;
  /** `received`: events; otherwise what an attempt left its delivery as. */
  what: 'received' | 'succeeded' | 'failed' | 'dead' | 'interrupted';
  n: number;
}

/** A failed attempt, with the delivery it belongs to. */
export interface FailedAttempt extends AttemptView {
  delivery_id: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface QueueStats {
  waiting: number;
  /** Counting stopped at the cap asked for: there are at least `waiting`. */
  waiting_capped: boolean;
  delivering: number;
  oldest_due_at: string | null;
}

/** Time bounds in filters are RFC 3339 UTC strings as the API received them. */
export interface DeliveryFilters extends DeliveryMatch {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The deliveries a requeue may put back in the queue: those matching the filters, in one of
 * `statuses`, created at or before ledger position `up_to_seq` (null: any), and (when
 * `live_endpoints_only`) without an endpoint or to one enabled and not archived. A delivery held for a
 * digest is never one of them: the digest delivery carries it, and requeueing both would send it twice.
 */
export interface RequeueSelection {
  match: DeliveryMatch;
  statuses: readonly DeliveryStatus[];
  live_endpoints_only: boolean;
  up_to_seq: number | null;
}

/** One step through a selection: what it found, and where the next step starts (null: nothing is left). */
export interface RequeueStep {
  rows: Array<{ id: string; position: RecoveryPosition }>;
  next: RecoveryPosition | null;
}

/** A bulk requeue job as projected from its entries. */
export interface RequeueJob {
  id: string;
  /** The ledger position of its requeue.started entry (jobs list newest first by it). */
  seq: number;
  actor: string;
  reason: string | null;
  filters: DeliveryMatch;
  up_to_seq: number;
  total: number;
  requeued: number;
  /** Where the next chunk starts (the last delivery requeued); null before the first chunk. */
  cursor: RecoveryPosition | null;
  state: 'running' | 'finished';
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface JobFilters {
  limit: number;
  cursor?: string | undefined;
}

export interface EventFilters {
  type?: string | undefined;
  subject?: string | undefined;
  user?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface EndpointFilters {
  channel?: string | undefined;
  include_archived?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Where a recovery or requeue has got to: an opaque position in creation order (ledger seq, index in the entry). */
export type RecoveryPosition = [number, number];

export type VerifyResult =
  | { ok: true; entries: number; head_hash: string }
  | { ok: false; entries: number; first_broken_seq: number; reason: ChainBreak['reason'] };

export interface ProjectionDifference {
  table: string;
  key: string;
  live: Record<string, unknown> | null;
  rebuilt: Record<string, unknown> | null;
}

export interface RebuildReport {
  entries: number;
  tables: Record<string, number>;
  differences: ProjectionDifference[];
}

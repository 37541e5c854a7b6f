// The ledger's entry kinds (a discriminated union) and the hash chain that makes edits evident:
// hash = sha256(prev_hash ‖ canonical JSON of { seq, at, kind, stream, actor, body }).
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { Channel, EndpointRecord } from './endpoint.js';
import type { EventRecord } from './event.js';
import type { DeliveryMatch } from './requeue.js';
import type { Outcome } from './retry-policy.js';

export const GENESIS_HASH = '0'.repeat(64);

export const ROLES = ['ingest', 'read', 'operate', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Trigger = 'initial' | 'retry' | 'redelivery' | 'recovery';
export type DeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'failed' | 'dead' | 'cancelled';

export interface DeliveryPlan {
  id: string;
  endpoint_id: string | null;
  channel: Channel;
  /** null: held for the endpoint's digest instead of sent on its own. */
  next_attempt_at: string | null;
  /** Ad-hoc recipients (an event's `notify.email`); null for endpoint deliveries. */
  recipients: string[] | null;
}

export interface AttemptReport {
  delivery_id: string;
  n: number;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  outcome: Outcome;
  status_code: number | null;
  error: string | null;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  remote_address: string | null;
  /** Where the delivery stands after this attempt. */
  delivery_status: 'succeeded' | 'failed' | 'dead';
  next_attempt_at: string | null;
}

/** A finished attempt as recorded: what happened, and who asked for it. */
export interface AttemptRecord extends AttemptReport {
  trigger: Trigger;
  /** Who asked for this attempt: herald itself, or the API key that redelivered or recovered. */
  actor: string;
}

/** One delivery taken for an attempt: its attempt number and when the lease runs out. */
export interface Lease {
  delivery_id: string;
  n: number;
  lease_until: string;
}

/**
 * The entry kinds. The current engine writes `attempts.leased` (many leases in one entry) and
 * `attempt.recorded` (one per finished attempt); `attempt.started`, `attempt.finished` and
 * `attempt.interrupted` are what earlier releases wrote for the same, kept so their ledgers replay.
 */
export interface EntryBodies {
  'api_key.created': { id: string; name: string; role: Role; key_hash: string; key_prefix: string };
  'api_key.revoked': { id: string };
  'endpoint.created': { endpoint: EndpointRecord; secret_sealed: string | null };
  'endpoint.updated': { id: string; changes: Partial<Omit<EndpointRecord, 'id' | 'channel' | 'created_at'>> };
  'endpoint.archived': { id: string };
  'endpoint.enabled': { id: string; reason: string | null };
  'endpoint.disabled': { id: string; reason: string | null; automatic: boolean };
  'endpoint.secret_rotated': { id: string; secret_sealed: string; previous_expires_at: string };
  'event.received': {
    event: EventRecord;
    api_key_id: string | null;
    idempotency: { key: string; fingerprint: string } | null;
    deliveries: DeliveryPlan[];
  };
  'attempts.leased': { leases: Lease[] };
  'attempt.recorded': AttemptRecord;
  'attempt.started': { delivery_id: string; n: number; trigger: Trigger; lease_until: string };
  'attempt.finished': AttemptReport;
  'attempt.interrupted': {
    delivery_id: string;
    n: number;
    reason: string;
    delivery_status: 'failed' | 'dead';
    next_attempt_at: string | null;
  };
  'digest.created': {
    /** The digest delivery: one message carrying every held event. */
    delivery: { id: string; endpoint_id: string; channel: Channel; next_attempt_at: string };
    event_ids: string[];
    /** The held deliveries it covers; they take the digest's status as it goes. */
    delivery_ids: string[];
  };
  'deliveries.requeued': {
    delivery_ids: string[];
    trigger: 'redelivery' | 'recovery';
    reason: string | null;
    next_attempt_at: string;
    /** A chunk of a bulk requeue job, and the position (creation order) it reached: where the next chunk starts. */
    job?: { id: string; cursor: [number, number] };
  };
  /**
   * A bulk requeue job: the filters, how many deliveries matched when it started, and the last ledger
   * position it may reach (deliveries created later are not swept in). Its chunks are deliveries.requeued.
   */
  'requeue.started': { job_id: string; filters: DeliveryMatch; reason: string | null; total: number; up_to_seq: number };
  'requeue.finished': { job_id: string; requeued: number };
}

export type EntryKind = keyof EntryBodies;

export interface EntryDraft<K extends EntryKind = EntryKind> {
  kind: K;
  stream: string;
  actor: string;
  body: EntryBodies[K];
}

export type LedgerEntry<K extends EntryKind = EntryKind> = {
  [P in K]: EntryDraft<P> & { seq: number; at: string; prev_hash: string; hash: string };
}[K];

export function entryHash(
  prevHash: string,
  e: { seq: number; at: string; kind: string; stream: string; actor: string; body: unknown },
): string {
  return sha256Hex(prevHash + canonicalJson({ seq: e.seq, at: e.at, kind: e.kind, stream: e.stream, actor: e.actor, body: e.body }));
}

/**
 * The same hash as entryHash, from a body that is already canonical JSON: the envelope's keys
 * (actor, at, body, kind, seq, stream) are in canonical order and JCS serialises strings as JSON.stringify
 * does, so the envelope can be assembled without canonicalising the body twice (the append hot path).
 */
export function entryHashFromCanonicalBody(
  prevHash: string,
  e: { seq: number; at: string; kind: string; stream: string; actor: string },
  canonicalBody: string,
): string {
  const s = JSON.stringify;
  return sha256Hex(
    `${prevHash}{"actor":${s(e.actor)},"at":${s(e.at)},"body":${canonicalBody},"kind":${s(e.kind)},"seq":${e.seq},"stream":${s(e.stream)}}`,
  );
}

export interface ChainBreak {
  seq: number;
  reason: 'prev_hash_mismatch' | 'hash_mismatch' | 'seq_gap' | 'unreadable';
}

/** Checks one entry against the previous hash; returns the break, or null when it links correctly. */
export function checkLink(
  prevSeq: number,
  prevHash: string,
  e: { seq: number; at: string; kind: string; stream: string; actor: string; body: unknown; prev_hash: string; hash: string },
): ChainBreak | null {
  if (e.seq !== prevSeq + 1) return { seq: e.seq, reason: 'seq_gap' };
  if (e.prev_hash !== prevHash) return { seq: e.seq, reason: 'prev_hash_mismatch' };
  if (entryHash(prevHash, e) !== e.hash) return { seq: e.seq, reason: 'hash_mismatch' };
  return null;
}

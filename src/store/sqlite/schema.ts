// Row types of herald's tables, as kysely sees them. JSON columns are stored as text.

export interface LedgerTable {
  seq: number;
  at: string;
  kind: string;
  stream: string;
  actor: string;
  body: string;
  prev_hash: string;
  hash: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
  seq: number;
}

export interface EndpointsTable {
  id: string;
  seq: number;
  channel: string;
  url: string | null;
  to_json: string | null;
  from_addr: string | null;
  events_json: string;
  users_json: string | null;
  subject: string | null;
  header_names_json: string;
  headers_sealed: string | null;
  smtp_url_sealed: string | null;
  timeout_ms: number;
  retry_json: string | null;
  template_json: string | null;
  digest_json: string | null;
  rate_limit_json: string | null;
  description: string | null;
  enabled: number;
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

export interface EventsTable {
  id: string;
  seq: number;
  type: string;
  source: string | null;
  subject: string | null;
  user: string | null;
  occurred_at: string | null;
  received_at: string;
  data_json: string;
  notify_json: string | null;
  api_key_id: string | null;
}

export interface DeliveriesTable {
  id: string;
  seq: number;
  idx: number;
  event_id: string;
  endpoint_id: string | null;
  channel: string;
  recipients_json: string | null;
  status: string;
  next_attempt_at: string | null;
  attempts: number;
  cycle_start: number;
  next_trigger: string;
  next_actor: string;
  lease_until: string | null;
  last_outcome: string | null;
  created_at: string;
  updated_at: string;
  /** For a delivery held for a digest: the digest delivery that carries it. */
  digest_id: string | null;
  /** For a digest delivery: the ids of the events it carries (JSON). */
  digest_events_json: string | null;
  /** The type of its event (event_id); null only in a row no projection wrote. */
  event_type: string | null;
}

export interface AttemptsTable {
  delivery_id: string;
  n: number;
  trigger: string;
  actor: string;
  started_at: string;
  lease_until: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  outcome: string | null;
  status_code: number | null;
  error: string | null;
  /** The ledger entry that recorded the attempt: its details (headers, response excerpt, remote address) are read there. */
  entry_seq: number | null;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  key: string;
  fingerprint: string;
  event_id: string;
  status: number;
  response_json: string;
  seq: number;
}

/** Counts per minute (`YYYY-MM-DDTHH:MM`, UTC): events received (endpoint ''), attempts by result per endpoint. */
export interface ActivityTable {
  minute: string;
  endpoint_id: string;
  what: string;
  n: number;
}

/** Per minute (`YYYY-MM-DDTHH:MM`, UTC), the first and last ledger position of the entries that made deliveries. */
export interface MinutePositionsTable {
  minute: string;
  first_seq: number;
  last_seq: number;
}

export interface RequeueJobsTable {
  id: string;
  seq: number;
  actor: string;
  reason: string | null;
  filters_json: string;
  up_to_seq: number;
  total: number;
  requeued: number;
  cursor_json: string | null;
  state: string;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface Database {
  ledger: LedgerTable;
  api_keys: ApiKeysTable;
  endpoints: EndpointsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  activity: ActivityTable;
  minute_positions: MinutePositionsTable;
  requeue_jobs: RequeueJobsTable;
}

/** The projection tables and their keys, in the order rebuild compares them. */
export const PROJECTIONS = {
  api_keys: ['id'],
  endpoints: ['id'],
  events: ['id'],
  deliveries: ['id'],
  attempts: ['delivery_id', 'n'],
  idempotency_keys: ['api_key_id', 'key'],
  activity: ['minute', 'endpoint_id', 'what'],
  minute_positions: ['minute'],
  requeue_jobs: ['id'],
} as const satisfies Partial<Record<keyof Database, readonly string[]>>;

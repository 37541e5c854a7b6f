// The shapes herald answers with, as zod schemas: they document /openapi.json, and the integration
// tests parse real answers with them, so the document and the behaviour cannot drift apart.
import { z } from 'zod';
import { CHANNELS } from '../domain/endpoint.js';
import { ROLES } from '../domain/ledger-entry.js';

const time = z.string().describe('RFC 3339 UTC');
const nullable = <T extends z.ZodType>(s: T) => s.nullable();

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const deliverySummarySchema = z
  .object({ id: z.string(), endpoint_id: nullable(z.string()), channel: z.enum(CHANNELS), status: z.string() })
  .meta({ id: 'DeliverySummary' });

export const ingestAnswerSchema = z
  .object({ id: z.string(), type: z.string(), received_at: time, deliveries: z.array(deliverySummarySchema) })
  .meta({ id: 'IngestAnswer' });

export const batchAnswerSchema = z
  .object({
    results: z.array(
      z.object({
        idempotency_key: nullable(z.string()),
        status: z.number().int(),
        replayed: z.boolean().optional(),
        event: ingestAnswerSchema.optional(),
        error: problemSchema.optional(),
      }),
    ),
  })
  .meta({ id: 'BatchAnswer' });

export const eventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    source: nullable(z.string()),
    subject: nullable(z.string()),
    user: nullable(z.string()),
    occurred_at: nullable(time),
    received_at: time,
    data: z.record(z.string(), z.unknown()),
    notify: nullable(z.object({ email: z.array(z.string()), on: z.array(z.string()).optional() })),
  })
  .meta({ id: 'Event' });

export const eventWithDeliveriesSchema = eventSchema
  .extend({ deliveries: z.array(deliverySummarySchema.extend({ attempts: z.number().int(), next_attempt_at: nullable(time) })) })
  .meta({ id: 'EventWithDeliveries' });

export const attemptSchema = z
  .object({
    n: z.number().int(),
    started_at: time,
    finished_at: nullable(time),
    duration_ms: nullable(z.number()),
    outcome: nullable(z.enum(['succeeded', 'http_error', 'timeout', 'network_error', 'smtp_error', 'interrupted'])),
    status_code: nullable(z.number().int()),
    response_body: nullable(z.string()),
    error: nullable(z.string()),
    trigger: z.enum(['initial', 'retry', 'redelivery', 'recovery']),
    actor: z.string(),
    request_headers: nullable(z.record(z.string(), z.string())),
    response_headers: nullable(z.record(z.string(), z.string())),
    remote_address: nullable(z.string()),
  })
  .meta({ id: 'Attempt' });

export const deliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    endpoint_id: nullable(z.string()),
    channel: z.enum(CHANNELS),
    status: z.enum(['pending', 'delivering', 'succeeded', 'failed', 'dead', 'cancelled']),
    next_attempt_at: nullable(time),
    recipients: nullable(z.array(z.string())),
    attempt_count: z.number().int(),
    digest_id: nullable(z.string()).describe('held for a digest: the digest delivery that carries it'),
    digest_event_ids: nullable(z.array(z.string())).describe('a digest delivery: the events it carries'),
    event_type: nullable(z.string()).describe("its event's type (a digest's: the newest event it carries)"),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Delivery' });

export const deliveryWithAttemptsSchema = deliverySchema.extend({ attempts: z.array(attemptSchema) }).meta({ id: 'DeliveryWithAttempts' });

export const requeueJobSchema = z
  .object({
    id: z.string(),
    state: z.enum(['running', 'finished']),
    total: z.number().int().describe('deliveries that matched when the job started'),
    requeued: z.number().int().describe('deliveries requeued so far'),
    filters: z
      .object({
        endpoint_id: z.string().optional(),
        event_id: z.string().optional(),
        status: z.string().optional(),
        channel: z.string().optional(),
        type: z.string().optional(),
        since: time.optional(),
        until: time.optional(),
      })
      .describe('the filters given'),
    reason: nullable(z.string()),
    actor: z.string().describe('the API key that started it'),
    started_at: time,
    updated_at: time,
    finished_at: nullable(time),
  })
  .meta({ id: 'RequeueJob' });

export const countSchema = z.object({ count: z.number().int() }).meta({ id: 'RequeueCount' });

export const endpointSchema = z
  .object({
    id: z.string(),
    channel: z.enum(CHANNELS),
    url: nullable(z.string()).optional(),
    to: nullable(z.array(z.string())).optional(),
    from: nullable(z.string()).optional(),
    smtp_url: nullable(z.string()).optional().describe('password masked'),
    headers: z.record(z.string(), z.string()).optional().describe('names only; values are never shown'),
    events: z.array(z.string()),
    users: nullable(z.array(z.string())),
    subject: nullable(z.string()),
    timeout_ms: z.number().int(),
    retry: z.unknown().nullable(),
    rate_limit: nullable(z.object({ per_second: z.number() })),
    template: z.unknown().nullable(),
    digest: z.unknown().nullable().optional(),
    description: nullable(z.string()),
    enabled: z.boolean(),
    disabled_reason: nullable(z.string()),
    health: z.object({ failing_since: nullable(time), consecutive_dead: z.number().int() }),
    created_at: time,
    updated_at: time,
    archived_at: nullable(time),
    secret: z.string().optional().describe('only in the answer to POST /v1/endpoints'),
  })
  .meta({ id: 'Endpoint' });

export const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ data: z.array(item), next_cursor: nullable(z.string()) }).meta({ id });

export const ledgerEntrySchema = z
  .object({
    seq: z.number().int(),
    at: time,
    kind: z.string(),
    stream: z.string(),
    actor: z.string(),
    body: z.unknown(),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'LedgerEntry' });

export const verifySchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int(),
    head_hash: z.string().optional(),
    first_broken_seq: z.number().int().optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'LedgerVerification' });

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    key_prefix: z.string(),
    created_at: time,
    revoked_at: nullable(time).optional(),
    key: z.string().optional().describe('only in the answer to POST /v1/keys'),
  })
  .meta({ id: 'ApiKey' });

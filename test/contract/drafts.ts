// Ledger entry drafts the contract suites append: keys, endpoints, events with one delivery, and the
// result of an attempt. Times are fixed (T0 and seconds after it).
import type { EntryDraft } from '../../src/domain/ledger-entry.js';

export const T0 = new Date('2026-11-01T10:00:00.000Z');
export const at = (s: number) => new Date(T0.getTime() + s * 1000);

export const revoke = (id: string): EntryDraft<'api_key.revoked'> => ({ kind: 'api_key.revoked', stream: id, actor: 'test', body: { id } });

export function received(id: string, opts: { endpoint?: string; due?: Date | null; key?: string; apiKey?: string; type?: string } = {}): EntryDraft<'event.received'> {
  const deliveries = opts.endpoint
    ? [{ id: `msg_${id}`, endpoint_id: opts.endpoint, channel: 'webhook' as const, next_attempt_at: opts.due === undefined ? T0.toISOString() : (opts.due?.toISOString() ?? null), recipients: null }]
    : [];
  return {
    kind: 'event.received',
    stream: id,
    actor: 'test',
    body: {
      event: { id, type: opts.type ?? 'job.done', source: null, subject: 'job-1', user: null, occurred_at: null, received_at: T0.toISOString(), data: { n: 1 }, notify: null },
      api_key_id: opts.key ? (opts.apiKey ?? 'key_1') : null,
      idempotency: opts.key ? { key: opts.key, fingerprint: 'f'.repeat(64) } : null,
      deliveries,
    },
  };
}

export const endpointCreated = (id: string): EntryDraft<'endpoint.created'> => ({
  kind: 'endpoint.created',
  stream: id,
  actor: 'test',
  body: {
    endpoint: {
      id, channel: 'webhook', url: 'https://example.com/hook', to: null, from: null, events: ['*'], users: null, subject: null, header_names: [],
      headers_sealed: null, smtp_url_sealed: null, timeout_ms: 1000, retry: null, rate_limit: null, template: null, digest: null, description: null, enabled: true,
    },
    secret_sealed: null,
  },
});


/** An attempt's result that leaves the delivery `status` (and its endpoint's health as a success or failure says). */
export const settled = (deliveryId: string, status: 'succeeded' | 'failed' | 'dead', n = 1): EntryDraft<'attempt.recorded'> => ({
  kind: 'attempt.recorded',
  stream: deliveryId,
  actor: 'herald',
  body: {
    delivery_id: deliveryId, n, trigger: 'initial', actor: 'test', started_at: T0.toISOString(), finished_at: T0.toISOString(), duration_ms: 1,
    outcome: status === 'succeeded' ? 'succeeded' : 'http_error', status_code: status === 'succeeded' ? 200 : 500, error: null,
    request_headers: null, response_headers: null, response_body: null, remote_address: null,
    delivery_status: status, next_attempt_at: status === 'failed' ? at(60).toISOString() : null,
  },
});

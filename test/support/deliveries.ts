// Small helpers for delivery tests: create an endpoint, post an event, wait for a delivery's state.
import { z } from 'zod';
import { deliveryWithAttemptsSchema, endpointSchema, ingestAnswerSchema } from '../../src/http/schemas.js';
import type { TestHerald } from './herald.js';
import { waitFor } from './receiver.js';

export type Delivery = z.output<typeof deliveryWithAttemptsSchema>;
export type Endpoint = z.output<typeof endpointSchema>;

let seq = 0;

export async function createEndpoint(h: TestHerald, body: Record<string, unknown>): Promise<Endpoint> {
  const r = await h.request('POST', '/v1/endpoints', { body });
  if (r.status !== 201) throw new Error(`POST /v1/endpoints answered ${r.status}: ${JSON.stringify(r.body)}`);
  return endpointSchema.parse(r.body);
}

export async function postEvent(h: TestHerald, event: Record<string, unknown>, key?: string) {
  const r = await h.request('POST', '/v1/events', { body: event, headers: { 'idempotency-key': `k-${Date.now()}-${seq++}` }, ...(key ? { key } : {}) });
  if (r.status !== 202) throw new Error(`POST /v1/events answered ${r.status}: ${JSON.stringify(r.body)}`);
  return ingestAnswerSchema.parse(r.body);
}

export async function getDelivery(h: TestHerald, id: string): Promise<Delivery> {
  const r = await h.request('GET', `/v1/deliveries/${id}`);
  if (r.status !== 200) throw new Error(`GET /v1/deliveries/${id} answered ${r.status}`);
  return deliveryWithAttemptsSchema.parse(r.body);
}

/** Waits until the delivery satisfies `done` (e.g. reaches a status), and returns it. */
export function waitForDelivery(h: TestHerald, id: string, done: (d: Delivery) => boolean, timeoutMs = 10_000): Promise<Delivery> {
  return waitFor(`delivery ${id}`, async () => {
    const d = await getDelivery(h, id);
    return done(d) ? d : null;
  }, timeoutMs);
}

/** Every ledger entry (parsed), in order. */
export async function ledgerEntries(h: TestHerald): Promise<Array<{ seq: number; kind: string; stream: string; actor: string; body: Record<string, unknown> }>> {
  const r = await h.request<string>('GET', '/v1/ledger', { headers: { accept: 'application/x-ndjson' } });
  return r.body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { seq: number; kind: string; stream: string; actor: string; body: Record<string, unknown> });
}

// Small helpers for API tests: problem assertions, posting events and endpoints, reading the ledger.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { z } from 'zod';
import { endpointSchema, ingestAnswerSchema, problemSchema } from '../../src/http/schemas.js';
import type { TestHerald, TestResponse } from './herald.js';

export type Problem = z.output<typeof problemSchema>;
export type IngestAnswer = z.output<typeof ingestAnswerSchema>;
export type EndpointView = z.output<typeof endpointSchema>;

/** Asserts an RFC 9457 answer with this status (and, if given, a problem type ending in `type`). */
export function expectProblem(res: TestResponse, status: number, type?: string): Problem {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const p = problemSchema.parse(res.body);
  expect(p.status).toBe(status);
  expect(p.title.length).toBeGreaterThan(0);
  expect(p.type).toMatch(/^https:\/\/herald\.dev\/problems\//);
  if (type) expect(p.type).toBe(`https://herald.dev/problems/${type}`);
  expect(JSON.stringify(p)).not.toMatch(/\n\s+at /); // never a stack trace
  return p;
}

export const uniqueKey = (label = 'k') => `${label}-${randomUUID()}`;

/** POST /v1/events with an Idempotency-Key (a fresh one unless given). */
export function postEvent(h: TestHerald, body: unknown, opts: { key?: string | null; idempotencyKey?: string; headers?: Record<string, string> } = {}) {
  return h.request('POST', '/v1/events', {
    body,
    key: opts.key,
    headers: { 'idempotency-key': opts.idempotencyKey ?? uniqueKey(), ...(opts.headers ?? {}) },
  });
}

/** Posts an event that must be accepted; returns the parsed 202 answer. */
export async function ingest(h: TestHerald, body: unknown, key?: string): Promise<IngestAnswer> {
  const r = await postEvent(h, body, { key });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return ingestAnswerSchema.parse(r.body);
}

/** Creates an endpoint that must be accepted; returns the parsed 201 answer. */
export async function createEndpoint(h: TestHerald, body: Record<string, unknown>): Promise<EndpointView> {
  const r = await h.request('POST', '/v1/endpoints', { body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return endpointSchema.parse(r.body);
}

export interface ExportedEntry {
  seq: number;
  at: string;
  kind: string;
  stream: string;
  actor: string;
  body: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** The raw NDJSON export text of the whole ledger. */
export async function exportLedger(h: TestHerald): Promise<string> {
  const r = await h.request<string>('GET', '/v1/ledger', { headers: { accept: 'application/x-ndjson' } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  return r.body;
}

export function parseNdjson(text: string): ExportedEntry[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ExportedEntry);
}

/** Follows next_cursor until the end; `between` runs after each page (e.g. to insert more rows). */
export async function allPages<T>(
  h: TestHerald,
  path: string,
  opts: { key?: string; between?: (page: number) => Promise<void> } = {},
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path;
    const r = await h.request<{ data: T[]; next_cursor: string | null }>('GET', url, { key: opts.key });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    items.push(...r.body.data);
    cursor = r.body.next_cursor;
    pages++;
    if (cursor && opts.between) await opts.between(pages);
    if (pages > 1000) throw new Error('pagination does not end');
  } while (cursor);
  return { items, pages };
}

// Opaque cursors for keyset pagination: a position (ledger seq, then index within it), base64url-encoded.
import { HeraldError } from '../domain/errors.js';
import type { Page } from './records.js';

export type Position = [seq: number, idx: number];

export function encodeCursor(pos: Position): string {
  return Buffer.from(JSON.stringify(pos)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n) && n >= 0)) return v as Position;
  } catch {
    // fall through
  }
  throw new HeraldError('bad_request', 'cursor is not valid; pass next_cursor from a previous page unchanged');
}

/** Cuts a `limit + 1` fetch into a page and the cursor of the next one. */
export function toPage<R, T>(rows: R[], limit: number, position: (r: R) => Position, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), next_cursor: more ? encodeCursor(position(kept[kept.length - 1]!)) : null };
}

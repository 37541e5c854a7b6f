// What every projection file shares: the shape of one projection, the JSON column helper, and the
// per-minute counts and positions.
import { sql } from 'kysely';
import type { EntryKind, LedgerEntry } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';

/** Applies one entry: its rows in `db`, its per-minute counts in `tally` (written at the end of the transaction). */
export type Apply<K extends EntryKind> = (db: Db, e: LedgerEntry<K>, tally: Tally) => Promise<void>;

/** The projections for a group of entry kinds: one function per kind. */
export type Projections<K extends EntryKind> = { [P in K]: Apply<P> };

export const json = (v: unknown) => (v == null ? null : JSON.stringify(v));

/**
 * An endpoint's health after a run of attempts, as a change to apply: `reset` when one succeeded (the
 * run starts clean from there), then since when the attempts after it failed, and how many died.
 */
interface HealthChange {
  reset: boolean;
  failingSince: string | null;
  dead: number;
}

/**
 * What many entries add to, gathered in memory and written once per transaction: the per-minute counts
 * (activity) and positions (minute_positions), and endpoints' health. A batch of entries touches a few
 * minutes and endpoints, and one statement for each replaces one per entry. Sums and min/max do not
 * depend on order; health changes compose in entry order; so replay writes the same.
 */
export class Tally {
  private readonly activity = new Map<string, { minute: string; endpoint_id: string; what: string; n: number }>();
  private readonly positions = new Map<string, { first: number; last: number }>();
  private readonly health = new Map<string, HealthChange>();

  /** One thing that happened in the minute of `at` (an event received; an attempt's result, per endpoint). */
  count(at: string, endpointId: string | null, what: string, n = 1): void {
    const minute = at.slice(0, 16);
    const endpoint_id = endpointId ?? '';
    const key = `${minute}\u0000${endpoint_id}\u0000${what}`;
    const row = this.activity.get(key);
    if (row) row.n += n;
    else this.activity.set(key, { minute, endpoint_id, what, n });
  }

  /** An entry that made deliveries: its minute's range of ledger positions takes it in (time filters use it). */
  position(seq: number, at: string): void {
    this.span(at.slice(0, 16), seq, seq);
  }

  private span(minute: string, first: number, last: number): void {
    const p = this.positions.get(minute);
    if (!p) this.positions.set(minute, { first, last });
    else {
      p.first = Math.min(p.first, first);
      p.last = Math.max(p.last, last);
    }
  }

  /**
   * Circuit-breaker inputs after an attempt: since when every attempt has failed, and how many
   * deliveries died in a row. A success starts clean.
   */
  attempted(endpointId: string, succeeded: boolean, died: boolean, startedAt: string): void {
    this.changeHealth(endpointId, succeeded ? { reset: true, failingSince: null, dead: 0 } : { reset: false, failingSince: startedAt, dead: died ? 1 : 0 });
  }

  /** The endpoint's health was written clean (created, enabled): what came before no longer counts. */
  healthReset(endpointId: string): void {
    this.health.set(endpointId, { reset: true, failingSince: null, dead: 0 });
  }

  private changeHealth(endpointId: string, next: HealthChange): void {
    const h = this.health.get(endpointId);
    if (!h || next.reset) this.health.set(endpointId, { ...next });
    else {
      h.failingSince ??= next.failingSince;
      h.dead += next.dead;
    }
  }

  /** Adds a later tally to this one (a unit's, once it is kept). */
  add(later: Tally): void {
    for (const r of later.activity.values()) this.count(r.minute, r.endpoint_id, r.what, r.n);
    for (const [minute, p] of later.positions) this.span(minute, p.first, p.last);
    for (const [endpointId, h] of later.health) this.changeHealth(endpointId, h);
  }

  /** Writes what was gathered, and starts again empty. */
  async flush(db: Db): Promise<void> {
    for (const r of this.activity.values()) {
      await sql`INSERT INTO activity (minute, endpoint_id, what, n) VALUES (${r.minute}, ${r.endpoint_id}, ${r.what}, ${r.n})
                ON CONFLICT (minute, endpoint_id, what) DO UPDATE SET n = n + excluded.n`.execute(db);
    }
    for (const [minute, p] of this.positions) {
      await sql`INSERT INTO minute_positions (minute, first_seq, last_seq) VALUES (${minute}, ${p.first}, ${p.last})
                ON CONFLICT (minute) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`.execute(db);
    }
    for (const [id, h] of this.health) {
      if (h.reset && h.failingSince === null) {
        // A healthy endpoint's row is left untouched (no page to write).
        await sql`UPDATE endpoints SET failing_since = NULL, consecutive_dead = 0
                  WHERE id = ${id} AND (failing_since IS NOT NULL OR consecutive_dead != 0)`.execute(db);
      } else if (h.reset) {
        await sql`UPDATE endpoints SET failing_since = ${h.failingSince}, consecutive_dead = ${h.dead} WHERE id = ${id}`.execute(db);
      } else {
        await sql`UPDATE endpoints SET failing_since = coalesce(failing_since, ${h.failingSince}), consecutive_dead = consecutive_dead + ${h.dead}
                  WHERE id = ${id}`.execute(db);
      }
    }
    this.activity.clear();
    this.positions.clear();
    this.health.clear();
  }
}

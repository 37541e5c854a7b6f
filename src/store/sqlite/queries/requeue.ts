// Read model of bulk requeue: the deliveries a requeue may touch (counted for the confirmation, then
// taken a chunk at a time in creation order, a bounded window per step), and the jobs' state.
import { sql } from 'kysely';
import type { DeliveryMatch } from '../../../domain/requeue.js';
import { decodeCursor, toPage } from '../../cursor.js';
import type { JobFilters, Page, RecoveryPosition, RequeueJob, RequeueSelection, RequeueStep } from '../../records.js';
import type { Db } from '../connection.js';
import type { RequeueJobsTable } from '../schema.js';
import { matches } from './deliveries.js';

/**
 * Deliveries one step looks at, at most (a window in creation order): it bounds each step's work
 * whatever the filters, since a selection that no index narrows (a time range, a type prefix) would
 * otherwise scan until it found a chunk's worth, and this connection serves everything else meanwhile.
 */
const SCAN_WINDOW = 5_000;

/** A position after every delivery of ledger entry `seq`. */
const endOf = (seq: number): RecoveryPosition => [seq, Number.MAX_SAFE_INTEGER];

/** Where the window after `after` ends; `last` when it reaches the selection's end (or the table's). */
async function windowAfter(db: Db, after: RecoveryPosition, upToSeq: number | null): Promise<{ end: RecoveryPosition; last: boolean }> {
  const { rows } = await sql<{ seq: number; idx: number }>`
    SELECT seq, idx FROM deliveries INDEXED BY deliveries_by_position WHERE (seq, idx) > (${after[0]}, ${after[1]})
    ORDER BY seq, idx LIMIT 1 OFFSET ${SCAN_WINDOW - 1}`.execute(db);
  const bound = upToSeq ?? Number.MAX_SAFE_INTEGER;
  const row = rows[0];
  if (!row || row.seq >= bound) return { end: endOf(bound), last: true };
  return { end: [row.seq, row.idx], last: false };
}

/** The selection's deliveries in (after, upTo] as a query, or null when its status filter rules out every status it may touch. */
function candidates(db: Db, sel: RequeueSelection, after: RecoveryPosition, upTo: RecoveryPosition) {
  const statuses = sel.match.status ? sel.statuses.filter((s) => s === sel.match.status) : sel.statuses;
  if (statuses.length === 0) return null;
  let q = db
    .selectFrom('deliveries')
    .where((eb) => matches(eb, { ...sel.match, status: undefined }))
    .where('deliveries.digest_id', 'is', null)
    .where(sql<boolean>`(deliveries.seq, deliveries.idx) > (${after[0]}, ${after[1]})`)
    .where(sql<boolean>`(deliveries.seq, deliveries.idx) <= (${upTo[0]}, ${upTo[1]})`);
  // One status: an equality, so deliveries_by_status (status, seq, idx) holds the window as one range.
  q = statuses.length === 1 ? q.where('deliveries.status', '=', statuses[0]!) : q.where('deliveries.status', 'in', statuses);
  if (sel.live_endpoints_only) {
    // NOT EXISTS (one lookup by key per row), not `endpoint_id IS NULL OR endpoint_id IN (…)`: SQLite
    // answers that OR by reading deliveries_by_endpoint once per live endpoint, and sorting.
    q = q.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('endpoints')
            .select(sql.lit(1).as('one'))
            .whereRef('endpoints.id', '=', 'deliveries.endpoint_id')
            .where((eb) => eb.or([eb('endpoints.enabled', '=', 0), eb('endpoints.archived_at', 'is not', null)])),
        ),
      ),
    );
  }
  return q;
}

/**
 * At most `limit` deliveries of the selection after `after`, in creation order, from one window; and
 * where the next step starts (null: the selection is exhausted).
 */
export async function requeueCandidates(db: Db, sel: RequeueSelection, after: RecoveryPosition, limit: number): Promise<RequeueStep> {
  const window = await windowAfter(db, after, sel.up_to_seq);
  const q = candidates(db, sel, after, window.end);
  const rows = q
    ? await q.select(['deliveries.id', 'deliveries.seq', 'deliveries.idx']).orderBy('deliveries.seq').orderBy('deliveries.idx').limit(limit).execute()
    : [];
  const found = rows.map((r) => ({ id: r.id, position: [r.seq, r.idx] as RecoveryPosition }));
  if (found.length === limit) return { rows: found, next: found[found.length - 1]!.position };
  return { rows: found, next: window.last ? null : window.end };
}

/** How many deliveries the selection holds: a window at a time, letting other work run in between. */
export async function countRequeueCandidates(db: Db, sel: RequeueSelection): Promise<number> {
  let count = 0;
  let after: RecoveryPosition = [0, 0];
  for (;;) {
    const window = await windowAfter(db, after, sel.up_to_seq);
    const q = candidates(db, sel, after, window.end);
    if (!q) return 0;
    const row = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    count += Number(row.n);
    if (window.last) return count;
    after = window.end;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function toJob(r: RequeueJobsTable): RequeueJob {
  return {
    id: r.id,
    seq: r.seq,
    actor: r.actor,
    reason: r.reason,
    filters: JSON.parse(r.filters_json) as DeliveryMatch,
    up_to_seq: r.up_to_seq,
    total: r.total,
    requeued: r.requeued,
    cursor: r.cursor_json == null ? null : (JSON.parse(r.cursor_json) as RecoveryPosition),
    state: r.state as RequeueJob['state'],
    started_at: r.started_at,
    updated_at: r.updated_at,
    finished_at: r.finished_at,
  };
}

export async function getRequeueJob(db: Db, id: string): Promise<RequeueJob | undefined> {
  const row = await db.selectFrom('requeue_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toJob(row);
}

export async function listRequeueJobs(db: Db, f: JobFilters): Promise<Page<RequeueJob>> {
  const after = decodeCursor(f.cursor);
  let q = db.selectFrom('requeue_jobs').selectAll();
  if (after) q = q.where('seq', '<', after[0]);
  const rows = await q.orderBy('seq', 'desc').limit(f.limit + 1).execute();
  return toPage(rows, f.limit, (r) => [r.seq, 0], toJob);
}

export async function runningRequeueJobs(db: Db): Promise<RequeueJob[]> {
  const rows = await db.selectFrom('requeue_jobs').selectAll().where('state', '=', 'running').orderBy('seq').execute();
  return rows.map(toJob);
}

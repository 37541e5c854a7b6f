// Read model of activity per minute: events received, attempts by result per endpoint.
import type { ActivityCount } from '../../records.js';
import type { Db } from '../connection.js';

const minute = (t: Date) => t.toISOString().slice(0, 16);

/** Counts for the minutes in [since, until), oldest first; one endpoint's only when it is given. */
export async function activityBetween(db: Db, since: Date, until: Date, endpointId?: string): Promise<ActivityCount[]> {
  let q = db
    .selectFrom('activity')
    .select(['minute', 'endpoint_id', 'what', 'n'])
    .where('minute', '>=', minute(since))
    .where('minute', '<', minute(until));
  if (endpointId !== undefined) q = q.where('endpoint_id', '=', endpointId);
  const rows = await q.orderBy('minute').orderBy('endpoint_id').orderBy('what').execute();
  return rows.map((r) => ({ minute: `${r.minute}:00.000Z`, endpoint_id: r.endpoint_id === '' ? null : r.endpoint_id, what: r.what as ActivityCount['what'], n: r.n }));
}

// An attempt's details (the headers sent and received, the response excerpt, the remote address) are
// kept once, in its ledger entry: the attempts row names that entry (entry_seq) instead of holding a
// second copy. Existing rows are pointed at the entries that recorded them, then the copies go.
// Frozen in time: takes Kysely<any> and never imports herald's types.
import { type Kysely, sql } from 'kysely';

const DETAILS = ['request_headers_json', 'response_headers_json', 'response_body', 'remote_address'] as const;

export async function up(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await db.schema.alterTable('attempts').addColumn('entry_seq', 'integer').execute();
    // One pass over the ledger, each entry finding its row by primary key.
    await sql`UPDATE attempts SET entry_seq = l.seq
              FROM (SELECT seq, body ->> 'delivery_id' AS delivery_id, body ->> 'n' AS n FROM ledger WHERE kind IN ('attempt.recorded', 'attempt.finished')) AS l
              WHERE attempts.delivery_id = l.delivery_id AND attempts.n = l.n`.execute(db);
    for (const column of DETAILS) await db.schema.alterTable('attempts').dropColumn(column).execute();
  });
}

export async function down(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    for (const column of DETAILS) await db.schema.alterTable('attempts').addColumn(column, 'text').execute();
    await sql`UPDATE attempts SET request_headers_json = nullif(l.body -> 'request_headers', 'null'), response_headers_json = nullif(l.body -> 'response_headers', 'null'),
                                  response_body = l.body ->> 'response_body', remote_address = l.body ->> 'remote_address'
              FROM ledger AS l WHERE l.seq = attempts.entry_seq`.execute(db);
    await db.schema.alterTable('attempts').dropColumn('entry_seq').execute();
  });
}

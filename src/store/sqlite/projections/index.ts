// The projections: one function per ledger entry kind, writing the tables the API reads. The live
// append path and `ledger rebuild` both call applyEntry, so replaying the ledger reproduces them exactly.
// Each file here projects one group of entry kinds; this table names which file handles which kind.
import type { EntryKind, LedgerEntry } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';
import { apiKeyProjections } from './api-keys.js';
import { attemptProjections } from './attempts.js';
import { endpointProjections } from './endpoints.js';
import { eventProjections } from './events.js';
import { requeueJobProjections } from './requeue-jobs.js';
import type { Apply, Tally } from './shared.js';

const projections: { [K in EntryKind]: Apply<K> } = {
  ...apiKeyProjections,
  ...endpointProjections,
  ...eventProjections,
  ...attemptProjections,
  ...requeueJobProjections,
};

export async function applyEntry(db: Db, entry: LedgerEntry, tally: Tally): Promise<void> {
  const fn = projections[entry.kind] as Apply<EntryKind>;
  await fn(db, entry, tally);
}

export { Tally } from './shared.js';

// The migrations in order, imported statically so the compiled build needs no file scanning.
import type { Migration } from 'kysely';
import * as m001 from './001_ledger_and_projections.js';
import * as m002 from './002_digests.js';
import * as m003 from './003_leases_and_rate_limits.js';
import * as m004 from './004_activity.js';
import * as m005 from './005_requeue_jobs.js';
import * as m006 from './006_attempt_details_in_ledger.js';
import * as m007 from './007_idempotency_keys_without_key_index.js';

export const migrations: Record<string, Migration> = {
  '001_ledger_and_projections': m001,
  '002_digests': m002,
  '003_leases_and_rate_limits': m003,
  '004_activity': m004,
  '005_requeue_jobs': m005,
  '006_attempt_details_in_ledger': m006,
  '007_idempotency_keys_without_key_index': m007,
};

// Typed, prefixed, time-sortable ids (evt_, ep_, msg_, key_, job_): the only place ids are made.
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * ulid's default source asks webcrypto for random bytes once per character (16 calls per id, a few
 * percent of ingest's CPU); this one takes them from a pooled buffer of the same CSPRNG. A byte/256
 * is uniform over ulid's 32 characters (it takes floor(x * 32)).
 */
const pool = Buffer.alloc(4096);
let at = pool.length;
function pooledRandom(): number {
  if (at >= pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  return pool[at++]! / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

export type IdPrefix = 'evt' | 'ep' | 'msg' | 'key' | 'rcv' | 'job';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
}

// Readiness: the store can take writes now, and the disk holding the database has room for them.
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Store } from '../store/store.js';

/** Below this much free space on the database's disk herald is not ready: its writes may soon answer 507. */
const MIN_FREE_BYTES = 1024 * 1024;

/** Why herald cannot take writes now, or null when it can. */
export function readiness(store: Pick<Store, 'ready'>, dbPath: string): () => Promise<string | null> {
  const dir = dbPath === ':memory:' ? null : dirname(resolve(dbPath));
  return async () => {
    if (!(await store.ready())) return 'the store is not writable (locked by another process, or the file cannot be written)';
    if (dir) {
      const fs = await statfs(dir).catch(() => null); // a file system that cannot say is taken at its word
      if (fs && fs.bavail * fs.bsize < MIN_FREE_BYTES) return `the disk holding the database is full (${fs.bavail * fs.bsize} bytes free)`;
    }
    return null;
  };
}

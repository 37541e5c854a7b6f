// The key that seals secrets in the ledger: HERALD_ENCRYPTION_KEY if set, otherwise a key file kept
// next to the database (created on first start, mode 0600). Without it the sealed secrets cannot be
// opened, so back it up with the database.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config.js';

export function encryptionKeyFile(dbPath: string): string {
  return `${dbPath}.key`;
}

/**
 * `hasSealedValues`: the database already holds values sealed under some key. Then a missing key file is
 * an error (a new key could open none of them), never silently replaced.
 */
export function loadEncryptionKey(config: Config, hasSealedValues = false): { key: Buffer; created: string | null } {
  if (config.HERALD_ENCRYPTION_KEY) return { key: Buffer.from(config.HERALD_ENCRYPTION_KEY, 'base64'), created: null };
  if (config.HERALD_DB === ':memory:') return { key: randomBytes(32), created: null };
  const file = encryptionKeyFile(config.HERALD_DB);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return { key, created: null };
  }
  if (hasSealedValues) {
    throw new Error(
      `${file} is missing, but ${config.HERALD_DB} holds secrets sealed under it: restore the key file next to the database, or set HERALD_ENCRYPTION_KEY`,
    );
  }
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, created: file };
}

// Read model of API keys.
import type { ApiKeyView } from '../../records.js';
import type { Db } from '../connection.js';

const columns = ['id', 'name', 'role', 'key_prefix', 'created_at', 'revoked_at'] as const;

export async function findActiveKeyByHash(db: Db, keyHash: string): Promise<ApiKeyView | undefined> {
  const row = await db.selectFrom('api_keys').select(columns).where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
  return row as ApiKeyView | undefined;
}

export async function getKey(db: Db, id: string): Promise<ApiKeyView | undefined> {
  return (await db.selectFrom('api_keys').select(columns).where('id', '=', id).executeTakeFirst()) as ApiKeyView | undefined;
}

export async function listKeys(db: Db): Promise<ApiKeyView[]> {
  return (await db.selectFrom('api_keys').select(columns).orderBy('seq', 'asc').execute()) as ApiKeyView[];
}

export async function countKeys(db: Db): Promise<number> {
  const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

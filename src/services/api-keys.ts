// API keys: created with a role, shown once, stored as SHA-256 hashes (they are 256-bit random, so a
// fast hash is enough), looked up through a small cache that the ledger invalidates.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sha256Hex } from '../domain/canonical-json.js';
import { HeraldError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { ROLES, type Role } from '../domain/ledger-entry.js';
import { BoundedCache } from './caches.js';
import type { Tx } from '../store/store.js';
import { type Principal, SYSTEM, type ServiceContext } from './context.js';

export const ENV_ADMIN: Principal = { id: 'key_env_admin', name: 'admin (HERALD_ADMIN_KEY)', role: 'admin' };

export const createKeySchema = z
  .object({ name: z.string().min(1).max(128), role: z.enum(ROLES) })
  .strict()
  .meta({ id: 'ApiKeyInput' });

const ROLE_RANK: Record<Role, number> = { ingest: 0, read: 1, operate: 2, admin: 3 };

/** Whether a key of role `have` may do what needs `need`. ingest only ingests; read < operate < admin. */
export function roleAllows(have: Role, need: Role): boolean {
  if (have === 'admin') return true;
  if (need === 'ingest') return have === 'ingest';
  if (have === 'ingest') return false;
  return ROLE_RANK[have] >= ROLE_RANK[need];
}

export const hashKey = (key: string) => sha256Hex(key);

/** herald's keys are 46 characters; HERALD_ADMIN_KEY may be longer, but not by this much. */
const MAX_CACHED_KEY_LENGTH = 256;

export class ApiKeysService {
  /** Keyed by the presented key itself, so a hit costs no hashing; it never leaves this process's memory. */
  private readonly cache = new BoundedCache<Principal | null>();
  private generation = 0;
  private readonly envAdminHash: string | null;

  constructor(private readonly ctx: ServiceContext) {
    this.envAdminHash = ctx.config.HERALD_ADMIN_KEY ? hashKey(ctx.config.HERALD_ADMIN_KEY) : null;
  }

  invalidate(): void {
    this.cache.clear();
    this.generation++;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const h = hashKey(key);
    if (h === this.envAdminHash) {
      this.cache.set(key, ENV_ADMIN);
      return ENV_ADMIN;
    }
    const generation = this.generation;
    const row = await this.ctx.store.read.apiKeys.findActiveKeyByHash(h);
    const principal = row ? { id: row.id, name: row.name, role: row.role } : null;
    // A key revoked while this lookup ran must not be cached as valid; nor is an oversized one (the
    // cache would hold whatever a client sends).
    if (generation === this.generation && key.length <= MAX_CACHED_KEY_LENGTH) this.cache.set(key, principal);
    return principal;
  }

  /**
   * What a console session records of the key that signed in: its id; for HERALD_ADMIN_KEY, whose id
   * never changes, also a fingerprint of the key, so a session ends when the setting changes.
   */
  sessionKeyId(p: Principal): string {
    return p.id === ENV_ADMIN.id && this.envAdminHash ? `${ENV_ADMIN.id}.${this.envAdminHash.slice(0, 16)}` : p.id;
  }

  /** The principal of a key that is still valid, by what a session recorded (sessionKeyId). */
  async principalById(sessionKeyId: string): Promise<Principal | null> {
    if (sessionKeyId.startsWith(`${ENV_ADMIN.id}.`)) {
      return this.envAdminHash && sessionKeyId === `${ENV_ADMIN.id}.${this.envAdminHash.slice(0, 16)}` ? ENV_ADMIN : null;
    }
    if (sessionKeyId === ENV_ADMIN.id) return null;
    const row = await this.ctx.store.read.apiKeys.getKey(sessionKeyId);
    return row && !row.revoked_at ? { id: row.id, name: row.name, role: row.role } : null;
  }

  async create(actor: Principal, input: z.output<typeof createKeySchema>) {
    return this.ctx.store.transact((tx) => this.append(tx, actor, input.name, input.role));
  }

  /** On first start with an empty store and no HERALD_ADMIN_KEY: an admin key, returned once to be printed. */
  async bootstrap(): Promise<string | null> {
    if (this.envAdminHash) return null;
    return this.ctx.store.transact(async (tx) => {
      if ((await tx.countKeys()) > 0) return null;
      return (await this.append(tx, SYSTEM, 'bootstrap admin', 'admin')).key;
    });
  }

  async revoke(actor: Principal, id: string) {
    const key = await this.ctx.store.read.apiKeys.getKey(id);
    if (!key) throw new HeraldError('not_found', `no API key ${id}`);
    if (!key.revoked_at) {
      await this.ctx.store.transact((tx) => tx.append({ kind: 'api_key.revoked', stream: id, actor: actor.name, body: { id } }));
    }
    return (await this.ctx.store.read.apiKeys.getKey(id))!;
  }

  list() {
    return this.ctx.store.read.apiKeys.listKeys();
  }

  private async append(tx: Tx, actor: Principal, name: string, role: Role) {
    const id = newId('key');
    const key = `hk_${randomBytes(32).toString('base64url')}`;
    const entry = await tx.append({
      kind: 'api_key.created',
      stream: id,
      actor: actor.name,
      body: { id, name, role, key_hash: hashKey(key), key_prefix: key.slice(0, 10) },
    });
    return { id, name, role, key, key_prefix: key.slice(0, 10), created_at: entry.at };
  }
}

// The stores the contract suite runs against (kysely's DIALECTS pattern): each opens a fresh, empty
// store and can break its own ledger (as an editor with file access would) for the verify tests.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { afterEach } from 'vitest';
import type { EntryDraft } from '../../src/domain/ledger-entry.js';
import type { Store, StoreHooks } from '../../src/store/store.js';

export interface StoreUnderTest {
  store: Store;
  /** Rewrites one ledger entry's body behind the store's back. */
  tamper(seq: number, body: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface StoreFactory {
  name: string;
  open(hooks?: StoreHooks): Promise<StoreUnderTest>;
}

export const STORES: StoreFactory[] = [
  {
    name: 'sqlite',
    async open(hooks = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'herald-contract-'));
      const path = join(dir, 'herald.db');
      const store = await SqliteStore.open({ path, ...hooks });
      return {
        store,
        async tamper(seq, body) {
          const raw = new Database(path);
          raw.exec('DROP TRIGGER ledger_refuses_update');
          raw.prepare('UPDATE ledger SET body = ? WHERE seq = ?').run(body, seq);
          raw.close();
        },
        async dispose() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** A fresh store per test from `factory`, disposed after each test; `current()` is the one open now. */
export function storePerTest(factory: StoreFactory): { open(hooks: StoreHooks): Promise<Store>; current(): StoreUnderTest } {
  let current: StoreUnderTest | undefined;
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return {
    async open(hooks) {
      current = await factory.open(hooks);
      return current.store;
    },
    current: () => current!,
  };
}

/** Appends the drafts in one unit of work. */
export const appendAll = (store: Store, ...drafts: EntryDraft[]) =>
  store.transact(async (tx) => {
    for (const d of drafts) await tx.append(d);
  });

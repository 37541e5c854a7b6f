// Which store herald runs on. Today that is SQLite, a file named by HERALD_DB.
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store, StoreHooks } from './store.js';

export interface StoreSettings {
  HERALD_DB: string;
  HERALD_SYNCHRONOUS?: 'FULL' | 'NORMAL' | 'EXTRA';
  HERALD_LOCK_WAIT_MS?: number;
}

export function openStore(settings: StoreSettings, hooks: StoreHooks = {}): Promise<Store> {
  return SqliteStore.open({ path: settings.HERALD_DB, synchronous: settings.HERALD_SYNCHRONOUS ?? 'FULL', lockWaitMs: settings.HERALD_LOCK_WAIT_MS, ...hooks });
}

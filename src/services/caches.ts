// In-process caches of what the hot paths read on every request: active endpoints (for matching)
// and API keys (for auth). Both are dropped whenever the ledger changes what they hold.
import type { StoredEndpoint } from '../store/queries/endpoints.js';

export class EndpointCache {
  private active: StoredEndpoint[] | null = null;
  private byId: Map<string, StoredEndpoint> | null = null;
  private generation = 0;
  private sharedSeen: number | undefined;

  /** `sharedGeneration`: a counter another thread bumps when it changes endpoints (see store/write-lock.ts). */
  constructor(private readonly sharedGeneration?: () => number) {}

  invalidate(): void {
    this.active = null;
    this.byId = null;
    this.generation++;
  }

  /** The active endpoints, loaded with `load` when the cache is empty. */
  async get(load: () => Promise<StoredEndpoint[]>): Promise<StoredEndpoint[]> {
    if (this.sharedGeneration) {
      const g = this.sharedGeneration();
      if (g !== this.sharedSeen) {
        this.sharedSeen = g;
        this.invalidate();
      }
    }
    if (this.active) return this.active;
    const gen = this.generation;
    const rows = await load();
    if (gen === this.generation) this.active = rows;
    return rows;
  }

  /** One active endpoint (enabled, not archived), or undefined. */
  async getActive(id: string, load: () => Promise<StoredEndpoint[]>): Promise<StoredEndpoint | undefined> {
    const rows = await this.get(load);
    if (this.active !== rows) return rows.find((e) => e.id === id);
    this.byId ??= new Map(rows.map((e) => [e.id, e]));
    return this.byId.get(id);
  }
}

/** A bounded map that forgets everything when full (its keys come from requests, so the set is attacker-sized). */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit = 10_000) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.limit) this.map.clear();
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }
}

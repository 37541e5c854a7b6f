// In-process caches of what the hot paths read on every request: active endpoints (for matching and
// leasing) and API keys (for auth). app.ts drops them in one place, when a commit changes what they hold.
import type { StoredEndpoint } from '../store/records.js';

export class EndpointCache {
  private active: StoredEndpoint[] | null = null;
  private byId: Map<string, StoredEndpoint> | null = null;
  private generation = 0;

  invalidate(): void {
    this.active = null;
    this.byId = null;
    this.generation++;
  }

  /** The active endpoints, loaded with `load` when the cache is empty. */
  async get(load: () => Promise<StoredEndpoint[]>): Promise<StoredEndpoint[]> {
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

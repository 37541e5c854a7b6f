// What the services share: the store, settings, clock, encryption key, caches, logger and metrics.
import type { Config } from '../config.js';
import type { Role } from '../domain/ledger-entry.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { EndpointCache } from './caches.js';

/** Who is acting: an API key, or herald itself. Its `name` is what the ledger records as the actor. */
export interface Principal {
  id: string;
  name: string;
  role: Role;
}

export const SYSTEM: Principal = { id: 'herald', name: 'herald', role: 'admin' };

export interface ServiceContext {
  store: Store;
  config: Config;
  clock: () => Date;
  secretKey: Buffer;
  endpoints: EndpointCache;
  log: Logger;
  metrics: Metrics;
}

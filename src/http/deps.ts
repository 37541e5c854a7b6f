// What the HTTP layer is built from.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ActivityService } from '../services/activity.js';
import type { ApiKeysService } from '../services/api-keys.js';
import type { DeliveriesService } from '../services/deliveries.js';
import type { EndpointsService } from '../services/endpoints.js';
import type { EventsService } from '../services/events.js';
import type { LedgerService } from '../services/ledger.js';
import type { RequeueJobs } from '../services/requeue-jobs.js';

export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  version: string;
  events: EventsService;
  endpoints: EndpointsService;
  deliveries: DeliveriesService;
  requeue: RequeueJobs;
  apiKeys: ApiKeysService;
  ledger: LedgerService;
  activity: ActivityService;
  clock: () => Date;
  /** Signs console sessions (a key is derived from it for that purpose alone). */
  sessionSecret: Buffer;
  /** Why herald cannot take writes now (a lock, a full disk), or null when it can. */
  notReady: () => Promise<string | null>;
  /** False while shutting down: /readyz answers 503. */
  isAccepting: () => boolean;
}

// The hono app: error handling, then body rules, then the routes by resource. Order is visible here.
import { Hono } from 'hono';
import { consoleRoutes } from '../console/routes.js';
import type { HttpEnv } from './auth.js';
import { jsonBodies } from './body.js';
import type { HttpDeps } from './deps.js';
import { errorHandler, notFound } from './problem.js';
import { Api } from './route.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { docsRoutes } from './routes/docs.js';
import { endpointRoutes } from './routes/endpoints.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { ledgerRoutes } from './routes/ledger.js';
import { requeueRoutes } from './routes/requeue.js';

const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function createHttpApp(deps: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.onError(errorHandler(deps.log));
  app.notFound(notFound);

  app.use(
    '/v1/*',
    jsonBodies((path) => {
      if (path === '/v1/events/batch') return deps.config.HERALD_MAX_BATCH_BYTES;
      if (path === '/v1/events') return deps.config.HERALD_MAX_BODY_BYTES;
      return DEFAULT_BODY_LIMIT;
    }),
  );

  const api = new Api(app, deps.apiKeys);
  eventRoutes(api, deps);
  endpointRoutes(api, deps);
  // Before /v1/deliveries/:id, which would otherwise take /v1/deliveries/count and …/requeue as ids.
  requeueRoutes(api, deps);
  deliveryRoutes(api, deps);
  ledgerRoutes(api, deps);
  keyRoutes(api, deps);
  healthRoutes(api, deps);
  docsRoutes(app);
  app.route('/console', consoleRoutes(deps));
  return app;
}

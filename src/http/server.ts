// The node HTTP server the API listens on: timeouts and a connection cap against slow or greedy
// clients, and a shutdown whose length the grace bounds even while keep-alive clients keep sending.
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export interface HttpServer {
  port: number;
  /**
   * Stops listening, answers what is still asked on open connections with `Connection: close`, closes
   * idle connections at once and every connection after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

type Settings = Pick<
  Config,
  'HERALD_HOST' | 'HERALD_PORT' | 'HERALD_HEADERS_TIMEOUT_MS' | 'HERALD_REQUEST_TIMEOUT_MS' | 'HERALD_KEEP_ALIVE_TIMEOUT_MS' | 'HERALD_MAX_CONNECTIONS'
>;

/** How often node looks for requests past their timeouts (its default, 30 s, would let them run that much longer). */
const checkEveryMs = (c: Settings) => Math.max(10, Math.min(1000, Math.floor(c.HERALD_HEADERS_TIMEOUT_MS / 2)));

/** Listens, or rejects with node's error (a port in use). */
export async function listen(fetch: (request: Request) => Response | Promise<Response>, config: Settings, log: Logger): Promise<HttpServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        port: config.HERALD_PORT,
        hostname: config.HERALD_HOST,
        serverOptions: {
          headersTimeout: config.HERALD_HEADERS_TIMEOUT_MS,
          requestTimeout: config.HERALD_REQUEST_TIMEOUT_MS,
          keepAliveTimeout: config.HERALD_KEEP_ALIVE_TIMEOUT_MS,
          connectionsCheckingInterval: checkEveryMs(config),
        },
      },
      () => resolve(s as Server),
    ) as Server;
    s.maxConnections = config.HERALD_MAX_CONNECTIONS;
    s.once('error', reject);
  });

  // Connections over the cap are closed by node as they arrive; say so, at most every 10 s.
  let dropped = 0;
  let lastWarned = -Infinity;
  server.on('drop', () => {
    dropped++;
    const now = performance.now();
    if (now - lastWarned < 10_000) return;
    log.warn({ dropped, max_connections: config.HERALD_MAX_CONNECTIONS }, 'connections refused: HERALD_MAX_CONNECTIONS are open');
    lastWarned = now;
    dropped = 0;
  });

  let closing = false;
  // Runs before hono's listener: once closing, every answer ends its connection.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
  });

  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = (graceMs: number) =>
    (closed ??= new Promise<void>((resolve) => {
      closing = true;
      const timer = setTimeout(() => {
        log.warn({ grace_ms: graceMs }, 'closing connections still open after the shutdown grace');
        server.closeAllConnections();
      }, graceMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    }));
  return { port, close };
}

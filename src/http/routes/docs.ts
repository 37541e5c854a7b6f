// The API reference at /docs: Scalar's standalone viewer rendering herald's own /openapi.json, its
// script read from node_modules at start and served by herald. Nothing is fetched from the internet.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { HeraldError } from '../../domain/errors.js';
import type { HttpEnv } from '../auth.js';

const VIEWER_PACKAGE = '@scalar/api-reference';
// The self-contained browser build (an IIFE defining window.Scalar): no chunks to load beside it.
const VIEWER_FILE = 'dist/browser/standalone.js';

interface Viewer {
  version: string;
  script: Uint8Array<ArrayBuffer>;
}

/**
 * The package's folder is found by walking node_modules rather than require.resolve, because its
 * `exports` expose neither package.json nor the browser build.
 */
function loadViewer(): Viewer | null {
  const require = createRequire(import.meta.url);
  for (const modules of require.resolve.paths(VIEWER_PACKAGE) ?? []) {
    const root = join(modules, VIEWER_PACKAGE);
    if (!existsSync(join(root, VIEWER_FILE))) continue;
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    return { version, script: new Uint8Array(readFileSync(join(root, VIEWER_FILE))) };
  }
  return null;
}

// Scalar's defaults reach out on their own: Inter and JetBrains Mono from fonts.scalar.com, an
// "Ask AI" agent (on by default when the page is on localhost) talking to Scalar's servers, and a
// developer toolbar on localhost. All off; the "Test request" client stays, and sends its requests
// to this herald (same origin, no proxy).
const VIEWER_CONFIG = {
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  hideClientButton: true,
  documentDownloadType: 'json',
  persistAuth: false,
};

function page(scriptUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>herald API reference</title>
<style>body { margin: 0; font-family: system-ui, sans-serif; }</style>
</head>
<body>
<div id="reference"></div>
<noscript>The API reference needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="${scriptUrl}"></script>
<script>Scalar.createApiReference('#reference', ${JSON.stringify(VIEWER_CONFIG)});</script>
</body>
</html>
`;
}

// The browser may load nothing but this origin (and data: URIs for inline images and fonts), so a
// viewer default we missed fails visibly instead of calling out. Scalar injects its styles inline.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** GET /docs and its script. No key needed, like /openapi.json. */
export function docsRoutes(app: Hono<HttpEnv>): void {
  const viewer = loadViewer();
  if (!viewer) {
    app.get('/docs', () => {
      throw new HeraldError('not_found', `the API reference viewer (${VIEWER_PACKAGE}) is not installed; the document is at /openapi.json`);
    });
    return;
  }
  // The version in the path lets browsers keep the 3.5 MB script until herald ships another one.
  const scriptUrl = `/docs/assets/scalar-api-reference-${viewer.version}.js`;
  const html = page(scriptUrl);
  let gzipped: Promise<Uint8Array<ArrayBuffer>> | undefined;

  app.get('/docs', (c) =>
    c.html(html, 200, { 'cache-control': 'no-cache', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' }),
  );
  app.get(scriptUrl, async (c: Context<HttpEnv>) => {
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    };
    // Compressed once, on first use, so start-up does not pay for it (about 3.5 MB → 1 MB).
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      gzipped ??= promisify(gzip)(viewer.script).then((b) => new Uint8Array(b));
      return c.body(await gzipped, 200, { ...headers, 'content-encoding': 'gzip' });
    }
    return c.body(viewer.script, 200, headers);
  });
}

// The console's static files, served by herald itself: its own stylesheet and script, and htmx and
// uPlot from node_modules. Read once at start; nothing is fetched from the internet.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { ConsoleEnv } from './auth.js';

/** The package root (the folder with package.json), from src/ or from dist/src/ alike. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find herald package.json');
    dir = up;
  }
  return dir;
}

const require = createRequire(import.meta.url);
const own = (name: string) => join(packageRoot(), 'src', 'console', 'static', name);

const FILES: Record<string, { path: () => string; type: string }> = {
  'console.css': { path: () => own('console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { path: () => own('console.js'), type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { path: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function assetRoutes(app: Hono<ConsoleEnv>, prefix: string): void {
  const loaded = new Map(Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.path()), type: f.type }]));
  app.get(`${prefix}/:name`, (c) => {
    const file = loaded.get(c.req.param('name'));
    if (!file) return c.text('not found', 404);
    return c.body(new Uint8Array(file.body), 200, { 'content-type': file.type, 'cache-control': 'public, max-age=3600' });
  });
}

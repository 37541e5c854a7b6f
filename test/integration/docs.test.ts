// The API reference at /docs: a page and a viewer script served by herald itself, with no key,
// nothing on the page pointing anywhere but herald, and the browser told to load nothing else.
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useHerald } from '../support/herald.js';

const herald = useHerald();

/** Every src= and href= on the page. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

/** A raw GET (fetch would undo the gzip), answering the status, headers and the bytes as sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('/docs', () => {
  it('answers an HTML page without a key, whose every asset is herald’s own', async () => {
    const r = await herald().request<string>('GET', '/docs', { key: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const urls = assetUrls(r.body);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u, 'a path on herald, not another host').toMatch(/^\/(?!\/)/);
    expect(r.body).toContain('/openapi.json');
  });

  it('names no other host, and tells the viewer and the browser to fetch nothing from the internet', async () => {
    const h = herald();
    const r = await h.request<string>('GET', '/docs', { key: null });
    const absolute = [...r.body.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0]);
    expect(absolute.filter((u) => !u.startsWith(h.url))).toEqual([]);
    // Scalar's own defaults would load fonts from its servers and start an AI agent on localhost
    expect(r.body).toContain('"withDefaultFonts":false');
    expect(r.body).toContain('"agent":{"disabled":true}');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("font-src 'self' data:");
  });

  it('serves the viewer script as JavaScript with a long cache, plain or gzipped', async () => {
    const h = herald();
    const page = await h.request<string>('GET', '/docs', { key: null });
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    const plain = await rawGet(h.url + scripts[0], {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^text\/javascript/);
    expect(plain.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(plain.body.length).toBeGreaterThan(500_000);
    expect(plain.body.toString('utf8', 0, 2000)).toContain('@scalar/api-reference');

    const zipped = await rawGet(h.url + scripts[0], { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
  });

  it('answers 404 for any other file under /docs/assets', async () => {
    const r = await herald().request('GET', '/docs/assets/scalar-api-reference-0.0.0.js', { key: null });
    expect(r.status).toBe(404);
  });
});

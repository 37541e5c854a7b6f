// NDJSON streaming (one JSON value per line) from pages of values, stopping when the client goes away.
import type { Context } from 'hono';
import { stream } from 'hono/streaming';

export function streamNdjson(c: Context, pages: AsyncIterable<unknown[]>, filename?: string): Response {
  c.header('content-type', 'application/x-ndjson');
  if (filename) c.header('content-disposition', `attachment; filename="${filename}"`);
  return stream(c, async (s) => {
    for await (const values of pages) {
      await s.write(values.map((v) => JSON.stringify(v)).join('\n') + '\n');
      if (s.aborted) break;
    }
  });
}

// The key that seals secrets: a database holding sealed secrets never starts with a new key in place of
// a missing key file, and a key that cannot open them fails the attempt (dead, with a clear error) and
// the secret's reveal (409), instead of a stuck lease or a 500.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encryptionKeyFile } from '../../src/encryption-key.js';
import { createEndpoint, postEvent, waitForDelivery } from '../support/deliveries.js';
import { startTestHerald } from '../support/herald.js';
import { startReceiver } from '../support/receiver.js';

describe('the encryption key', () => {
  it('refuses to start on a database with sealed secrets when its key file is gone, naming the file and the setting', async () => {
    const h = await startTestHerald();
    await createEndpoint(h, { channel: 'webhook', url: 'http://127.0.0.1:9/x', events: ['*'] });
    await h.stop();
    const keyFile = encryptionKeyFile(h.dbPath);
    expect(existsSync(keyFile)).toBe(true);
    rmSync(keyFile);
    await expect(startTestHerald({ HERALD_DB: h.dbPath, HERALD_ADMIN_KEY: h.adminKey }, { dir: h.dir })).rejects.toThrow(/\.key is missing.*HERALD_ENCRYPTION_KEY/);
    expect(existsSync(keyFile)).toBe(false); // no new key was made
    h.cleanup();
  });

  it('fails an attempt whose secrets the key cannot open, and answers 409 for the secret', async () => {
    const rx = await startReceiver({ status: 200 });
    const first = await startTestHerald({ HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    const ep = await createEndpoint(first, { channel: 'webhook', url: `${rx.url}/k`, events: ['key.*'] });
    const h = await first.restart({ HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    try {
      const ev = await postEvent(h, { type: 'key.test' });
      const d = await waitForDelivery(h, ev.deliveries[0]!.id, (x) => x.status === 'dead', 5000);
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]!.error).toMatch(/cannot be opened with this encryption key/);
      expect(rx.received).toHaveLength(0);
      const secret = await h.request('GET', `/v1/endpoints/${ep.id}/secret`);
      expect(secret.status).toBe(409);
    } finally {
      await h.stop();
      await rx.close();
    }
    h.cleanup();
  });
});

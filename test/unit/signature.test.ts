// Standard Webhooks signing, checked against the specification's own test vector and library.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isValidSigningSecret, newSigningSecret, sign, signatureHeader } from '../../src/domain/signature.js';

const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signature', () => {
  it('matches the specification test vector', () => {
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(signatureHeader([VECTOR.secret], VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('changes with the id, the timestamp, the body and the secret', () => {
    expect(sign(VECTOR.secret, 'msg_other', VECTOR.timestamp, VECTOR.body)).not.toBe(VECTOR.signature);
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body)).not.toBe(VECTOR.signature);
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, '{"test": 2432232315}')).not.toBe(VECTOR.signature);
    expect(sign(newSigningSecret(), VECTOR.id, VECTOR.timestamp, VECTOR.body)).not.toBe(VECTOR.signature);
  });

  it('a fresh secret signs what the standardwebhooks library verifies', () => {
    const secret = newSigningSecret();
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ id: 'evt_1', type: 'job.completed', data: { ok: true } });
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, 'msg_1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  });

  it('during rotation sends one space-separated signature per secret, each verifiable', () => {
    const [a, b] = [newSigningSecret(), newSigningSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([a, b], 'msg_2', ts, '{}');
    expect(header.split(' ')).toEqual([sign(a, 'msg_2', ts, '{}'), sign(b, 'msg_2', ts, '{}')]);
    for (const s of [a, b]) {
      expect(new Webhook(s).verify('{}', { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': header })).toEqual({});
    }
  });

  it('secrets are whsec_ + base64 of 24 to 64 bytes', () => {
    expect(isValidSigningSecret(VECTOR.secret)).toBe(true);
    expect(isValidSigningSecret(newSigningSecret())).toBe(true);
    expect(newSigningSecret()).not.toBe(newSigningSecret());
    expect(isValidSigningSecret(`whsec_${Buffer.alloc(23).toString('base64')}`)).toBe(false);
    expect(isValidSigningSecret(`whsec_${Buffer.alloc(64).toString('base64')}`)).toBe(true);
    expect(isValidSigningSecret(`whsec_${Buffer.alloc(65).toString('base64')}`)).toBe(false);
    expect(isValidSigningSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
    expect(isValidSigningSecret('whsec_not base64!')).toBe(false);
  });
});

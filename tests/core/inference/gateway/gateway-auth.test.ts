import { describe, expect, it } from 'vitest';
import { hasApiKey, keyRequiredFor } from '../../../../src-main/core/inference/gateway/gateway-auth.js';

describe('keyRequiredFor', () => {
  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])('lets %s serve without a key: only this machine can reach it', (host) => {
    expect(keyRequiredFor(host)).toBe(false);
  });

  it.each(['0.0.0.0', '::', '192.168.1.20', '10.77.0.2', 'fe80::1', 'hearth-box.local'])('demands a key on %s, which the LAN can reach', (host) => {
    expect(keyRequiredFor(host)).toBe(true);
  });
});

describe('hasApiKey', () => {
  it('accepts exactly "Bearer <key>", in any case of the scheme, or the key alone as x-api-key (Anthropic\'s SDK)', () => {
    expect(hasApiKey({ authorization: 'Bearer s3cret-key' }, 's3cret-key')).toBe(true);
    expect(hasApiKey({ authorization: 'bearer s3cret-key' }, 's3cret-key')).toBe(true);
    expect(hasApiKey({ 'x-api-key': 's3cret-key' }, 's3cret-key')).toBe(true);
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 's3cret-key', 'Basic s3cret-key', 'Bearer s3cret-ke', 'Bearer s3cret-key2', 'Bearer s3cret key'])('refuses the Authorization %j', (header) => {
    expect(hasApiKey({ authorization: header }, 's3cret-key')).toBe(false);
  });

  it.each(['', 's3cret-ke', 'Bearer s3cret-key', 's3cret-key '])('refuses the x-api-key %j', (header) => {
    expect(hasApiKey({ 'x-api-key': header }, 's3cret-key')).toBe(false);
  });
});

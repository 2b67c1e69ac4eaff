import { describe, expect, it } from 'vitest';
import {
  MAX_DEVICES, MAX_TXT_STRING_BYTES, compatibility, decodeAdvert, encodeAdvert, txtBytes, type PeerAdvert,
} from '../../../src-main/core/peers/discovery/advert.js';

const ADDRESSES = ['10.77.0.1'];

function advert(overrides: Partial<PeerAdvert> = {}): PeerAdvert {
  return {
    id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
    name: 'garage box',
    version: '0.1.0',
    release: 'v0.4.0',
    rpcProtocol: '6.0.0',
    devices: [
      { name: 'CUDA0', description: 'NVIDIA GeForce RTX 4090', totalBytes: 25_393_692_672, freeBytes: 24_000_000_000 },
      { name: 'CPU', description: 'AMD Ryzen 9 7950X', totalBytes: 68_719_476_736, freeBytes: 60_000_000_000 },
    ],
    cacheUsedBytes: 12_345_678_901,
    cacheCapBytes: 100 * 2 ** 30,
    fingerprint: '0123456789abcdef',
    linkPort: 7777,
    ...overrides,
  };
}

/** A valid TXT record with some keys replaced (undefined removes a key). */
function txtWith(changes: Record<string, unknown>): Record<string, unknown> {
  const txt: Record<string, unknown> = { ...encodeAdvert(advert()), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete txt[key];
  return txt;
}

function expectError(result: ReturnType<typeof decodeAdvert>, pattern: RegExp): void {
  expect(result).toHaveProperty('error');
  expect((result as { error: string }).error).toMatch(pattern);
}

describe('encodeAdvert / decodeAdvert', () => {
  it('round-trips an advert', () => {
    const original = advert();
    expect(decodeAdvert(encodeAdvert(original), ADDRESSES)).toEqual(original);
    expect(decodeAdvert(encodeAdvert(advert({ devices: [] })), ADDRESSES)).toEqual(advert({ devices: [] }));
  });

  it('round-trips through the text form bonjour-service puts on the wire', () => {
    // bonjour-service sends "key=value" strings and splits them at the first "=".
    const wire = Object.entries(encodeAdvert(advert())).map(([key, value]) => `${key}=${value}`);
    const decoded = Object.fromEntries(wire.map((item) => item.split(/=(.+)/).slice(0, 2)));
    expect(decodeAdvert(decoded, ADDRESSES)).toEqual(advert());
  });

  it('keeps every TXT string within 255 bytes and the record small, shortening texts', () => {
    const long = advert({
      name: 'ü'.repeat(200),
      devices: Array.from({ length: 40 }, (_, i) => ({
        name: `Vulkan${i}-with-a-very-long-name`,
        description: 'A | very ; long\ndescription '.repeat(20),
        totalBytes: 2 ** 50,
        freeBytes: 2 ** 49,
      })),
    });
    const txt = encodeAdvert(long);
    for (const [key, value] of Object.entries(txt)) expect(Buffer.byteLength(`${key}=${value}`)).toBeLessThanOrEqual(MAX_TXT_STRING_BYTES);
    expect(txtBytes(txt)).toBeLessThanOrEqual(1300);
    const decoded = decodeAdvert(txt, ADDRESSES) as PeerAdvert;
    expect(decoded.devices).toHaveLength(MAX_DEVICES);
    expect(decoded.name.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(decoded.name)).toBeLessThanOrEqual(63);
    expect(decoded.devices[0]!.description).not.toMatch(/[|\n]/);
    expect(decoded.devices[0]!.totalBytes).toBe(2 ** 50);
  });

  it('shortens long descriptions to 32 bytes at a character boundary', () => {
    const decoded = decodeAdvert(encodeAdvert(advert({
      devices: [{ name: 'CUDA0', description: 'NVIDIA GeForce RTX 4090 Laptop GPU with extras', totalBytes: 1, freeBytes: 1 }],
    })), ADDRESSES) as PeerAdvert;
    expect(decoded.devices[0]!.description).toBe('NVIDIA GeForce RTX 4090 Lapto…'); // 29 bytes + a 3-byte ellipsis;
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'id=1', /not a key\/value record/],
    ['null', null, /not a key\/value record/],
    ['an array', ['id=1'], /not a key\/value record/],
  ])('rejects a TXT record that is %s', (_what, txt, pattern) => {
    expectError(decodeAdvert(txt, ADDRESSES), pattern);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a missing id', { id: undefined }, /"id" is missing/],
    ['a missing link port', { link: undefined }, /"link" is missing/],
    ['a missing device', { dev1: undefined }, /"dev1" is missing/],
    ['a missing format', { txtvers: undefined }, /"txtvers" is missing/],
    ['a newer format', { txtvers: '2' }, /format 2 is not understood.*update Hearth/],
    ['a value that is not text', { link: 7777 }, /"link" is not text/],
    ['an undefined-looking value', { name: true }, /"name" is not text/],
    ['a string over 255 bytes', { name: 'x'.repeat(300) }, /longer than a TXT string/],
    ['a name with control characters', { name: 'evil\u0007box' }, /"name" is not a printable name/],
    ['an empty name', { name: '   ' }, /"name" is not a name/],
    ['an id that is no UUID', { id: '../../etc/passwd' }, /"id" is not a lowercase UUID/],
    ['a fingerprint that is the key', { fp: 'a'.repeat(64) }, /"fp" is not a 16-hex-digit/],
    ['a port of 0', { link: '0' }, /"link" is not a port number/],
    ['a port above 65535', { link: '99999' }, /"link" is not a port number/],
    ['a negative port', { link: '-1' }, /"link" is not a port number/],
    ['a port in hex', { link: '0x1E61' }, /"link" is not a port number/],
    ['a bad Hearth version', { hearth: '1.0.0; rm -rf /' }, /"hearth" is not a Hearth version/],
    ['a bad release', { llama: 'v0.4.0 extra' }, /"llama" is not a llama.cpp release/],
    ['a bad protocol', { rpc: '6' }, /"rpc" is not an RPC protocol/],
    ['an absurd cache', { cache: `1/${2 ** 53}` }, /absurd size/],
    ['a negative cache', { cache: '-1/100' }, /"cache" is not used\/cap/],
    ['a fractional cache', { cache: '1.5/100' }, /"cache" is not used\/cap/],
    ['too many devices', { ndev: '17' }, /more than 16/],
    ['a device count that is no number', { ndev: 'two' }, /"ndev" is not a device count/],
    ['a device with missing fields', { dev0: 'CUDA0|1000' }, /"dev0" is not name\|total\|free\|description/],
    ['a device with more free than total memory', { dev0: 'CUDA0|1000|2000|x' }, /more free memory than it has/],
    ['a device with an absurd size', { dev0: `CUDA0|${2 ** 52}|1|x` }, /absurd size/],
    ['a device with a negative size', { dev0: 'CUDA0|-5|1|x' }, /not a whole number/],
    ['a device with a scientific size', { dev0: 'CUDA0|1e12|1|x' }, /not a whole number/],
    ['a device without a name', { dev0: '|1000|10|x' }, /bad device name/],
  ])('rejects an advert with %s', (_what, changes, pattern) => {
    expectError(decodeAdvert(txtWith(changes), ADDRESSES), pattern);
  });

  it.each<[string, unknown, RegExp]>([
    ['no addresses', [], /no address/],
    ['addresses that are not a list', '10.77.0.1', /no address/],
    ['an address that is not an IP', ['10.77.0.1', 'example.com'], /"example.com" is not an IP address/],
    ['an address of the wrong type', [42], /"42" is not an IP address/],
    ['too many addresses', Array.from({ length: 17 }, (_, i) => `10.77.0.${i + 1}`), /more than 16 addresses/],
  ])('rejects a peer with %s', (_what, addresses, pattern) => {
    expectError(decodeAdvert(encodeAdvert(advert()), addresses), pattern);
  });

  it('ignores keys it does not know (a newer peer may add some)', () => {
    expect(decodeAdvert(txtWith({ future: 'yes' }), ADDRESSES)).toEqual(advert());
  });

  it('never throws, whatever it is given', () => {
    const values: unknown[] = [undefined, 0, '', 'x', '\u0000', {}, [], null, Symbol('s'), 2 ** 60, -1, NaN, { toString: null }];
    for (const value of values) {
      for (const key of Object.keys(encodeAdvert(advert()))) {
        expect(() => decodeAdvert(txtWith({ [key]: value }), ADDRESSES)).not.toThrow();
      }
      expect(() => decodeAdvert(value, value)).not.toThrow();
    }
  });
});

describe('compatibility', () => {
  const ours = { release: 'v0.4.0', rpcProtocol: '6.0.0' };

  it('accepts the same release and protocol', () => {
    expect(compatibility(advert(), ours)).toEqual({ compatible: true });
  });

  it('explains a different llama.cpp release', () => {
    const verdict = compatibility(advert({ release: 'v0.3.9', version: '0.0.9' }), ours);
    expect(verdict).toEqual({
      compatible: false,
      reason: 'garage box runs llama.cpp v0.3.9 (Hearth 0.0.9) but this machine runs v0.4.0: install the same Hearth version on both machines.',
    });
  });

  it('explains a different RPC protocol', () => {
    const verdict = compatibility(advert({ rpcProtocol: '5.1.0' }), ours);
    expect(verdict).toEqual({
      compatible: false,
      reason: 'garage box speaks llama.cpp RPC protocol 5.1.0 but this machine speaks 6.0.0: install the same Hearth version on both machines.',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { Crc32c, Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { EntryChecksums } from '../../../src-main/core/cache/entry-checksums.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

// Deterministic bytes covering every value and every alignment.
function sampleBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff;
  return bytes;
}

// The definition, in BigInt: slow, but obviously llama.cpp's `fnv_hash`.
function referenceFnv(bytes: Uint8Array): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

// Feeds `bytes` in chunks of the given sizes, cycling through them.
function chunked<T extends { update(bytes: Uint8Array): T }>(hasher: T, bytes: Uint8Array, sizes: number[]): T {
  for (let offset = 0, turn = 0; offset < bytes.length; turn++) {
    const size = sizes[turn % sizes.length]!;
    hasher.update(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return hasher;
}

describe('Crc32c', () => {
  it('matches the CRC-32C check values', () => {
    expect(new Crc32c().update(text('123456789')).hex()).toBe('e3069283');
    expect(new Crc32c().update(text('123456789')).digest()).toBe(0xe3069283);
    expect(new Crc32c().update(new Uint8Array(32)).hex()).toBe('8a9136aa');
    expect(new Crc32c().update(new Uint8Array(32).fill(0xff)).hex()).toBe('62a8ab43');
    expect(new Crc32c().hex()).toBe('00000000');
  });

  it('gives the same result however the bytes are chunked', () => {
    const bytes = sampleBytes(10_007);
    const whole = new Crc32c().update(bytes).hex();
    for (const sizes of [[1], [3, 5, 7], [8], [9, 1000], [4096]]) {
      expect(chunked(new Crc32c(), bytes, sizes).hex()).toBe(whole);
    }
  });
});

// EntryChecksums' FNV-1a half, seen through Fnv1a64's interface; its CRC half resumes from the start.
class EntryFnv {
  constructor(readonly checksums = new EntryChecksums()) {}
  update(bytes: Uint8Array): this {
    this.checksums.update(bytes);
    return this;
  }
  digestHex(): string {
    return this.checksums.fnvHex();
  }
}

// The plain JS hash is the reference; the WebAssembly one is what the worker hashes with.
describe.each([
  ['Fnv1a64', () => new Fnv1a64(), (state: string) => Fnv1a64.resume(state)],
  ['EntryChecksums (FNV-1a)', () => new EntryFnv(), (state: string) => new EntryFnv(EntryChecksums.resume(state, 0))],
] as const)('%s', (_name, make, resume) => {
  it('matches the FNV-1a 64 test vectors', () => {
    expect(make().digestHex()).toBe('cbf29ce484222325');
    expect(make().update(text('')).digestHex()).toBe('cbf29ce484222325');
    expect(make().update(text('a')).digestHex()).toBe('af63dc4c8601ec8c');
    expect(make().update(text('foobar')).digestHex()).toBe('85944171f73967e8');
  });

  it('agrees with a BigInt reference on every byte value', () => {
    const bytes = sampleBytes(5000);
    expect(make().update(bytes).digestHex()).toBe(referenceFnv(bytes));
  });

  it('gives the same result however the bytes are chunked, across the WebAssembly buffer\'s 256 KiB too', () => {
    const bytes = sampleBytes(600_007);
    const whole = referenceFnv(bytes);
    for (const sizes of [[1], [3, 5, 7], [8], [9, 1000], [4096], [262_144], [262_145, 100_000]]) {
      expect(chunked(make(), bytes, sizes).digestHex(), sizes.join()).toBe(whole);
    }
  });

  it('resumes from a digest as if it had never stopped', () => {
    const bytes = sampleBytes(300_000);
    const first = make().update(bytes.subarray(0, 123_457)).digestHex();
    expect(resume(first).update(bytes.subarray(123_457)).digestHex()).toBe(referenceFnv(bytes));
    expect(() => resume('CBF29CE484222325')).toThrow(RangeError);
  });
});

describe('EntryChecksums (CRC-32C)', () => {
  it('matches the CRC-32C check values', () => {
    expect(new EntryChecksums().crc32c()).toBe(0);
    expect(new EntryChecksums().update(text('123456789')).crc32c()).toBe(0xe3069283);
    expect(new EntryChecksums().update(new Uint8Array(32)).crc32c()).toBe(0x8a9136aa);
    expect(new EntryChecksums().update(new Uint8Array(32).fill(0xff)).crc32c()).toBe(0x62a8ab43);
  });

  it('agrees with the JS Crc32c however the bytes are chunked: the 8-byte steps, the tail and the 256 KiB buffer', () => {
    const bytes = sampleBytes(600_007);
    const whole = new Crc32c().update(bytes).digest();
    for (const sizes of [[1], [3, 5, 7], [8], [9, 1000], [4096], [262_144], [262_145, 100_000]]) {
      const checksums = chunked(new EntryChecksums(), bytes, sizes);
      expect(checksums.crc32c(), sizes.join()).toBe(whole);
      expect(checksums.fnvHex(), sizes.join()).toBe(referenceFnv(bytes));
    }
  });

  it('resumes both checksums from a checkpoint as if it had never stopped', () => {
    const bytes = sampleBytes(300_000);
    const first = new EntryChecksums().update(bytes.subarray(0, 123_457));
    const resumed = EntryChecksums.resume(first.fnvHex(), first.crc32c()).update(bytes.subarray(123_457));
    expect(resumed.crc32c()).toBe(new Crc32c().update(bytes).digest());
    expect(resumed.fnvHex()).toBe(referenceFnv(bytes));
    expect(() => EntryChecksums.resume('cbf29ce484222325', -1)).toThrow(RangeError);
    expect(() => EntryChecksums.resume('cbf29ce484222325', 2 ** 32)).toThrow(RangeError);
  });

  it('keeps two streams apart when they are fed in turns (they share one WebAssembly instance)', () => {
    const a = sampleBytes(70_001);
    const b = sampleBytes(90_003).reverse();
    const first = new EntryChecksums();
    const second = new EntryChecksums();
    for (let at = 0; at < 90_003; at += 10_000) {
      first.update(a.subarray(at, at + 10_000));
      second.update(b.subarray(at, at + 10_000));
    }
    expect([first.fnvHex(), first.crc32c()]).toEqual([referenceFnv(a), new Crc32c().update(a).digest()]);
    expect([second.fnvHex(), second.crc32c()]).toEqual([referenceFnv(b), new Crc32c().update(b).digest()]);
  });
});

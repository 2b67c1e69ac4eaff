import { describe, expect, it } from 'vitest';
import { arrayOf, count, DecodeError, nullable, object, oneOf, optional, recordOf, text, tryDecode } from '../../../src-main/core/base/decode.js';

const pin = object({ hashes: arrayOf(text({ max: 16 }), { max: 3 }), ttl: optional(count), note: nullable(text()) });

describe('decoders', () => {
  it('give back only the fields they name, typed', () => {
    expect(pin({ hashes: ['a'], ttl: 5, note: null, extra: 'dropped' })).toEqual({ hashes: ['a'], ttl: 5, note: null });
    expect(pin({ hashes: [], note: 'x' })).toEqual({ hashes: [], note: 'x' });
  });

  it('say where a value is wrong and what was expected there', () => {
    const wrong = (value: unknown) => {
      try {
        pin(value);
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(wrong({ hashes: ['a', 7], note: null })).toBe('"hashes[1]" must be a string of 1 to 16 characters, not 7');
    expect(wrong({ hashes: ['a', 'b', 'c', 'd'], note: null })).toMatch(/^"hashes" must be a list of at most 3 items/);
    expect(wrong({ hashes: [], ttl: -1, note: null })).toBe('"ttl" must be a whole number, 0 or more, not -1');
    expect(wrong({ hashes: [] })).toBe('"note" must be a string of 1 to 4096 characters, or null, not missing');
    expect(wrong([])).toBe('the value must be an object, not a list of 0');
    expect(wrong('x'.repeat(100))).toMatch(/not "x{50,}\.\.\.$/);
  });

  it('check records, exact values, and answer "is it one of ours" without throwing', () => {
    expect(recordOf(count)({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(() => recordOf(count)({ a: 'one' })).toThrow('"a" must be a whole number, 0 or more, not "one"');
    expect(oneOf('mdns', 'manual')('manual')).toBe('manual');
    expect(tryDecode(oneOf('mdns', 'manual'), 'carrier pigeon')).toBeUndefined();
  });
});

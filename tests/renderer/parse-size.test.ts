// The Settings screen's cache cap parser: the sizes people type (with the CLI's parser, which it
// shares), "default", and what is refused.
import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src-main/shared/parse-size.js';
import { parseCacheCap } from '../../src-renderer/src/lib/parse-size.js';

describe('parseSize', () => {
  it('reads decimal and binary units', () => {
    expect(parseSize('50G')).toBe(50e9);
    expect(parseSize('50gb')).toBe(50e9);
    expect(parseSize('200 GiB')).toBe(200 * 2 ** 30);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5TB')).toBe(1.5e12);
    expect(parseSize('  2 tib ')).toBe(2 * 2 ** 40);
    expect(parseSize('10k')).toBe(10_000);
  });

  it('reads a bare number as bytes', () => {
    expect(parseSize('1048576')).toBe(1_048_576);
    expect(parseSize('7 B')).toBe(7);
  });

  it('refuses what is not a size', () => {
    for (const text of ['', 'G', 'fifty', '50 gigs', '-5G', '5,5G', '1e3', '50 G B', '.5G']) {
      expect(parseSize(text), text).toBeUndefined();
    }
  });

  it('refuses a size too big to count exactly', () => {
    expect(parseSize('99999999999 TiB')).toBeUndefined();
  });
});

describe('parseCacheCap', () => {
  it('takes a size in bytes', () => {
    expect(parseCacheCap('50G')).toEqual({ ok: true, bytes: 50e9 });
    expect(parseCacheCap('200 GiB')).toEqual({ ok: true, bytes: 200 * 2 ** 30 });
  });

  it('takes "default" in any case as the default cap', () => {
    expect(parseCacheCap('default')).toEqual({ ok: true, bytes: null });
    expect(parseCacheCap(' Default ')).toEqual({ ok: true, bytes: null });
  });

  it('says what to type instead of nothing, a non-size or zero', () => {
    const cases: [string, RegExp][] = [
      ['', /^Type a cap such as 50G/],
      ['   ', /^Type a cap such as 50G/],
      ['lots', /^"lots" is not a size: type one such as 50G or 200 GiB, or default\.$/],
      ['0', /would hold nothing: type a size such as 50G, or default\.$/],
      ['0.0000001K', /would hold nothing/],
    ];
    for (const [text, message] of cases) {
      const result = parseCacheCap(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.error).toMatch(message);
    }
  });
});

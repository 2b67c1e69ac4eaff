import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src-main/shared/parse-size.js';

describe('parseSize', () => {
  it('reads decimal and binary units, any case', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('50G')).toBe(50e9);
    expect(parseSize('1.5TB')).toBe(1.5e12);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize(' 2 gib ')).toBe(2 * 2 ** 30);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'lots', '-5G', '5 parsecs', '1e9', '1.2.3G']) expect(parseSize(text), text).toBeUndefined();
  });
});

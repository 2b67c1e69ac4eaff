import { describe, expect, it } from 'vitest';
import { formatTimeLeft } from '../../src-renderer/src/lib/time-left.js';

describe('formatTimeLeft', () => {
  it('counts seconds under a minute, rounded up', () => {
    expect(formatTimeLeft(0)).toBe('0 s');
    expect(formatTimeLeft(0.2)).toBe('1 s');
    expect(formatTimeLeft(3)).toBe('3 s');
    expect(formatTimeLeft(59)).toBe('59 s');
  });

  it('says minutes and seconds under an hour', () => {
    expect(formatTimeLeft(59.5)).toBe('1 min');
    expect(formatTimeLeft(125)).toBe('2 min 5 s');
    expect(formatTimeLeft(3599)).toBe('59 min 59 s');
  });

  it('says about how many hours from an hour on', () => {
    expect(formatTimeLeft(3600)).toBe('about 1 h');
    expect(formatTimeLeft(3599.5)).toBe('about 1 h');
    expect(formatTimeLeft(5000)).toBe('about 1 h');
    expect(formatTimeLeft(6000)).toBe('about 2 h');
    expect(formatTimeLeft(30 * 3600)).toBe('about 30 h');
  });

  it('says unknown without an estimate, and never goes below zero', () => {
    expect(formatTimeLeft(null)).toBe('unknown');
    expect(formatTimeLeft(Number.NaN)).toBe('unknown');
    expect(formatTimeLeft(Number.POSITIVE_INFINITY)).toBe('unknown');
    expect(formatTimeLeft(-4)).toBe('0 s');
  });
});

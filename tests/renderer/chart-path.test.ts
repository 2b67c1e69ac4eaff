import { describe, expect, it } from 'vitest';
import { chartGeometry, chartMaxima, roundBytesUp } from '../../src-renderer/src/lib/chart-path.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('roundBytesUp', () => {
  it('rounds up to 1, 2 or 5 × 10^k of a binary unit', () => {
    expect(roundBytesUp(0)).toBe(1);
    expect(roundBytesUp(1)).toBe(1);
    expect(roundBytesUp(3)).toBe(5);
    expect(roundBytesUp(700)).toBe(1000);
    expect(roundBytesUp(1000)).toBe(1000);
    expect(roundBytesUp(1024)).toBe(1024);
    expect(roundBytesUp(300 * MiB)).toBe(500 * MiB);
    expect(roundBytesUp(3.2 * GiB)).toBe(5 * GiB);
    expect(roundBytesUp(12 * GiB)).toBe(20 * GiB);
  });
});

describe('chartMaxima', () => {
  it('spans at least a second and nothing moved without samples', () => {
    expect(chartMaxima([])).toEqual({ maxMs: 1000, maxBytes: 1 });
  });

  it('ends the time axis at the last sample and tops the bytes axis above the largest', () => {
    const samples = [{ atMs: 0, bytes: 0 }, { atMs: 2500, bytes: 150 * MiB }, { atMs: 4000, bytes: 180 * MiB }];
    expect(chartMaxima(samples)).toEqual({ maxMs: 4000, maxBytes: 200 * MiB });
  });
});

describe('chartGeometry', () => {
  const box = { width: 100, height: 50 };

  it('draws nothing without samples', () => {
    expect(chartGeometry([], box)).toMatchObject({ line: '', area: '' });
  });

  it('maps time to the right and bytes upwards', () => {
    const geometry = chartGeometry([{ atMs: 0, bytes: 0 }, { atMs: 500, bytes: 5 }, { atMs: 1000, bytes: 10 }], box);
    expect(geometry.maxBytes).toBe(10);
    expect(geometry.line).toBe('M0,50 L50,25 L100,0');
    expect(geometry.area).toBe('M0,50 L50,25 L100,0 L100,50 L0,50 Z');
  });

  it('starts from the origin when the first sample comes later', () => {
    const geometry = chartGeometry([{ atMs: 2000, bytes: 4 }], box);
    expect(geometry.line).toBe('M0,50 L100,10');
    expect(geometry.area).toBe('M0,50 L100,10 L100,50 L0,50 Z');
  });

  it('rounds coordinates to a tenth', () => {
    const geometry = chartGeometry([{ atMs: 0, bytes: 0 }, { atMs: 1000, bytes: 1 }, { atMs: 3000, bytes: 2 }], box);
    expect(geometry.line).toBe('M0,50 L33.3,25 L100,0');
  });

  it('thins long series to the point budget and keeps the newest sample', () => {
    const samples = Array.from({ length: 1001 }, (_, index) => ({ atMs: index * 10, bytes: index }));
    const geometry = chartGeometry(samples, { ...box, maxPoints: 11 });
    const points = geometry.line.slice(1).split(' L');
    expect(points).toHaveLength(11);
    expect(points.at(-1)).toBe(`100,${50 - (1000 / geometry.maxBytes) * 50}`);
  });
});

// Geometry of the bytes-over-time charts: samples to SVG path strings, kept pure so it is tested
// without a browser; the component only draws what this returns.
import type { ByteSample } from '../../../src-main/core/api/contract.js';

/** The chart's drawing box and how many points a line may have at most. */
export interface ChartBox {
  width: number;
  height: number;
  /** Longer series are thinned to this many points (the last one always kept). */
  maxPoints?: number;
}

/** What the chart draws: the line, the area under it, and the axes' maxima. */
export interface ChartGeometry {
  /** SVG path `d` of the line; '' without samples. */
  line: string;
  /** The line closed down to the time axis, for a filled area; '' without samples. */
  area: string;
  /** Right end of the time axis (ms) and top of the bytes axis: a round number at or above the largest sample. */
  maxMs: number;
  maxBytes: number;
}

const DEFAULT_MAX_POINTS = 240;
const MIN_SPAN_MS = 1000;

/** Axis maxima for `samples`: the last time (at least a second) and a round byte count above the largest. */
export function chartMaxima(samples: readonly ByteSample[]): { maxMs: number; maxBytes: number } {
  let maxMs = MIN_SPAN_MS;
  let maxBytes = 0;
  for (const sample of samples) {
    maxMs = Math.max(maxMs, sample.atMs);
    maxBytes = Math.max(maxBytes, sample.bytes);
  }
  return { maxMs, maxBytes: roundBytesUp(maxBytes) };
}

/** The smallest 1, 2 or 5 × 10^k of a binary unit (B, KiB, MiB, …) at or above `bytes`; 1 for nothing. */
export function roundBytesUp(bytes: number): number {
  if (!(bytes > 0)) return 1;
  let unit = 1;
  while (bytes >= unit * 1024) unit *= 1024;
  const value = bytes / unit;
  const decade = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((candidate) => candidate * decade >= value) ?? 10;
  return step * decade * unit;
}

/** Every `samples` point in the box (time right, bytes up), starting from nothing at time 0. */
export function chartGeometry(samples: readonly ByteSample[], box: ChartBox): ChartGeometry {
  const { maxMs, maxBytes } = chartMaxima(samples);
  if (samples.length === 0) return { line: '', area: '', maxMs, maxBytes };
  const x = (atMs: number) => round((Math.max(0, atMs) / maxMs) * box.width);
  const y = (bytes: number) => round(box.height - (Math.max(0, bytes) / maxBytes) * box.height);
  const points = thin(samples, box.maxPoints ?? DEFAULT_MAX_POINTS).map((sample) => `${x(sample.atMs)},${y(sample.bytes)}`);
  // The work began with nothing moved: draw from the origin so a single sample still shows a line.
  const first = samples[0]!;
  if (first.atMs > 0) points.unshift(`0,${box.height}`);
  const line = `M${points.join(' L')}`;
  const lastX = x(samples[samples.length - 1]!.atMs);
  const firstX = first.atMs > 0 ? 0 : x(first.atMs);
  return { line, area: `${line} L${lastX},${box.height} L${firstX},${box.height} Z`, maxMs, maxBytes };
}

// Keep about `maxPoints` evenly spaced samples, always the last (the newest figure).
function thin(samples: readonly ByteSample[], maxPoints: number): readonly ByteSample[] {
  if (samples.length <= maxPoints || maxPoints < 2) return samples;
  const stride = (samples.length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, index) => samples[Math.round(index * stride)]!);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

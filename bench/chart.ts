// The benchmark report's chart: results.json as one SVG of horizontal bar charts, every bar a
// ratio to a baseline measured in the same run. Plain SVG (no scripts, no external fonts) so that
// GitHub shows it in the README and in bench-report/report.md.
import type { CacheLoadResults } from './cache-loads.js';
import type { LinkBenchResults } from './link.js';
import type { ManifestBenchResults } from './manifest.js';
import type { ManifestReloadResults } from './manifest-reload.js';
import type { ScenarioKey, WarmupBenchResults } from './warmup.js';

/** results.json as bench/run.ts writes it: each benchmark that ran, under its name. */
export interface BenchResults {
  machine?: string;
  runs?: number;
  loads?: CacheLoadResults;
  manifest?: ManifestBenchResults;
  reload?: ManifestReloadResults;
  warmup?: WarmupBenchResults;
  link?: LinkBenchResults;
}

/** One bar: a scenario's ratio to its baseline, or why it has none. */
export interface ChartBar {
  label: string;
  /** Absent when the scenario has no figure (it failed); `detail` then says why. */
  ratio?: number;
  /** The measured figure behind the ratio, e.g. "3.13 s". */
  detail: string;
  /** The baseline itself (its ratio is 1). */
  baseline?: boolean;
}

/** One benchmark's bars, against one kind of baseline. */
export interface ChartPanel {
  title: string;
  bars: ChartBar[];
}

/** One chart: a figure (load time, bytes, …) across the benchmarks that measure it. */
export interface ChartGroup {
  title: string;
  subtitle: string;
  panels: ChartPanel[];
}

/** The chart's groups from the results: only benchmarks that ran, only figures that have a baseline. */
export function chartGroups(results: BenchResults): ChartGroup[] {
  const groups: ChartGroup[] = [
    {
      title: 'Load time',
      subtitle: 'launch to ready, as a ratio to the baseline of the same run (lower is faster)',
      panels: [results.loads && loadsPanel(results.loads), results.reload && reloadPanel(results.reload), results.warmup && warmupPanel(results.warmup)].filter(isPanel),
    },
    {
      title: 'Bytes per link',
      subtitle: 'bytes each worker\'s cable received per load, as a ratio to upstream without a cache (lower moves less)',
      panels: [results.warmup && bytesPanel(results.warmup)].filter(isPanel),
    },
    {
      title: 'Hashing throughput',
      subtitle: 'GB/s over the same tensors, as a ratio to the JS Fnv1a64 (higher is faster)',
      panels: [results.manifest && hashingPanel(results.manifest)].filter(isPanel),
    },
    {
      title: 'Link overhead',
      subtitle: 'the secure link as a ratio to raw TCP on the same lab LAN, median of paired runs (1.0× costs nothing)',
      panels: [results.link && linkPanel(results.link)].filter(isPanel),
    },
  ];
  return groups.filter((group) => group.panels.length > 0);
}

function loadsPanel(results: CacheLoadResults): ChartPanel | undefined {
  // cacheLoadsReportSection's order: the local load comes first and is the baseline.
  const base = results.scenarios[0]?.seconds;
  return panel(`Loads through one worker (${results.model})`, results.scenarios.map((s, i) => ({ label: s.name.replace(/: baseline$/, ''), value: s.seconds, base, baseline: i === 0, detail: seconds(s.seconds) })));
}

function reloadPanel(results: ManifestReloadResults): ChartPanel | undefined {
  const base = results.hashing.median;
  return panel(`Warm reload, one worker (${results.model})`, [
    { label: 'without the manifest (upstream)', value: base, base, baseline: true, detail: seconds(base) },
    { label: 'with Hearth\'s hash manifest', value: results.manifest.median, base, detail: seconds(results.manifest.median) },
  ]);
}

function warmupPanel(results: WarmupBenchResults): ChartPanel | undefined {
  if (results.skipped) return undefined;
  const base = scenario(results, 'localNoMmap')?.seconds?.median;
  return panel(`Warm-up, two workers at 1 Gbit (${results.model ?? 'model'})`, results.scenarios.map((s) => ({
    label: s.name.replace(/: baseline$/, ''),
    value: s.seconds?.median,
    base,
    baseline: s.key === 'localNoMmap',
    detail: s.seconds ? seconds(s.seconds.median) : failure(s.error),
  })));
}

function bytesPanel(results: WarmupBenchResults): ChartPanel | undefined {
  if (results.skipped) return undefined;
  const perLink = (links: { received: number }[] | undefined) => (links && links.length > 0 ? links.reduce((sum, link) => sum + link.received, 0) / links.length : undefined);
  const base = perLink(scenario(results, 'upstreamNoCache')?.links);
  // Local loads do not use the workers: their cables carry nothing of the load.
  const bars = results.scenarios.filter((s) => !s.key.startsWith('local')).map((s) => {
    const bytes = perLink(s.links);
    return { label: s.name, value: bytes, base, baseline: s.key === 'upstreamNoCache', detail: bytes === undefined ? failure(s.error) : `${megabytes(bytes)} per link` };
  });
  return panel(`Warm-up, two workers at 1 Gbit (${results.model ?? 'model'})`, bars);
}

function hashingPanel(results: ManifestBenchResults): ChartPanel | undefined {
  const base = results.figures.js.gbPerSecond.median;
  return panel(`Hash manifest (${results.model})`, Object.values(results.figures).map((figure) => ({
    label: figure.name,
    value: figure.gbPerSecond.median,
    base,
    baseline: figure === results.figures.js,
    detail: `${figure.gbPerSecond.median.toFixed(2)} GB/s`,
  })));
}

function linkPanel(results: LinkBenchResults): ChartPanel | undefined {
  if (results.skipped) return undefined;
  const bars = results.figures.map((figure): ChartBar => {
    const label = figure.unit ? `${figure.name} (${figure.unit})` : figure.name;
    if (figure.ratio === undefined || !figure.raw || !figure.link || !finitePositive(figure.ratio)) return { label, detail: failure(figure.error) };
    const digits = figure.raw.median >= 100 ? 0 : 1;
    return { label, ratio: figure.ratio, detail: `${figure.link.median.toFixed(digits)} vs ${figure.raw.median.toFixed(digits)} raw` };
  });
  return bars.length > 0 ? { title: 'Secure link at 1 Gbit, link / raw TCP', bars } : undefined;
}

interface Row {
  label: string;
  value: number | undefined;
  base: number | undefined;
  baseline?: boolean;
  detail: string;
}

/** Bars from figures and their baseline; no panel when the baseline itself has no usable figure. */
function panel(title: string, rows: Row[]): ChartPanel | undefined {
  if (rows.length === 0 || !rows.some((row) => row.base !== undefined && finitePositive(row.base))) return undefined;
  return {
    title,
    bars: rows.map((row) => {
      const ratio = row.value !== undefined && row.base !== undefined ? row.value / row.base : undefined;
      return ratio !== undefined && Number.isFinite(ratio) && ratio >= 0
        ? { label: row.label, ratio, detail: row.detail, ...(row.baseline ? { baseline: true } : {}) }
        : { label: row.label, detail: row.value === undefined ? row.detail : 'no figure' };
    }),
  };
}

function scenario(results: WarmupBenchResults, key: ScenarioKey) {
  return results.scenarios.find((s) => s.key === key);
}

function isPanel(value: ChartPanel | undefined | false | 0 | ''): value is ChartPanel {
  return Boolean(value);
}

function finitePositive(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}

function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}

function megabytes(bytes: number): string {
  return bytes >= 1e8 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function failure(error: string | undefined): string {
  return `no figure: ${(error ?? 'not run').split('\n')[0]!.slice(0, 60)}`;
}

// ---- drawing ----

const WIDTH = 920;
const MARGIN = 16;
const LABEL_CHARS = 56; // about 6.5 px a character at 12 px, in the 380 px before the bars
const BAR_X = 400;
const BAR_WIDTH = 280;
const LINE = 14;
const COLORS = { text: '#1f2328', muted: '#57606a', bar: '#4c78a8', baseline: '#9aa5b1', reference: '#cf222e', background: '#ffffff' };
const FONT = 'font-family="-apple-system, BlinkMacSystemFont, \'Segoe UI\', Helvetica, Arial, sans-serif"';

/** The whole chart as an SVG document: a heading, then one bar chart per group, each with its 1.0× reference line. */
export function benchmarkChart(results: BenchResults): string {
  const groups = chartGroups(results);
  const parts: string[] = [];
  const heading = [results.machine, results.runs === undefined ? undefined : `medians of ${results.runs} runs`].filter(Boolean).join(' · ');
  parts.push(text(MARGIN, 26, 'Hearth benchmarks: ratios to a baseline measured in the same run', { size: 16, bold: true }));
  if (heading) parts.push(text(MARGIN, 44, heading, { size: 11, color: COLORS.muted }));
  let y = 52;
  if (groups.length === 0) {
    y += 24;
    parts.push(text(MARGIN, y, 'No benchmark results to chart.', { color: COLORS.muted }));
  }
  for (const group of groups) {
    const bars = group.panels.flatMap((p) => p.bars);
    const top = Math.max(1, ...bars.map((bar) => bar.ratio ?? 0)) * 1.08;
    const x = (ratio: number) => BAR_X + (ratio / top) * BAR_WIDTH;
    const reference = x(1);
    y += 30;
    parts.push(text(MARGIN, y, group.title, { size: 14, bold: true }));
    y += 16;
    parts.push(text(MARGIN, y, group.subtitle, { size: 11, color: COLORS.muted }));
    const first = y + 8;
    for (const panel of group.panels) {
      y += 22;
      parts.push(text(MARGIN, y, panel.title, { bold: true }));
      y += 6;
      for (const bar of panel.bars) {
        const lines = wrap(bar.label, LABEL_CHARS, 3);
        const height = Math.max(20, lines.length * LINE + 6);
        lines.forEach((line, i) => parts.push(text(MARGIN + 8, y + 14 + i * LINE, line, { title: lines.join(' ') === bar.label ? undefined : bar.label })));
        if (bar.ratio === undefined) {
          parts.push(text(BAR_X + 4, y + 14, bar.detail, { size: 11, color: COLORS.muted, italic: true }));
        } else {
          const end = x(bar.ratio);
          parts.push(`<rect x="${num(BAR_X)}" y="${num(y + 4)}" width="${num(Math.max(1, end - BAR_X))}" height="12" fill="${bar.baseline ? COLORS.baseline : COLORS.bar}"/>`);
          // Right of the reference line too, so that the line never crosses the text.
          parts.push(text(Math.max(end, reference) + 6, y + 14, `${ratioText(bar.ratio)} · ${bar.detail}${bar.baseline ? ' (baseline)' : ''}`, { size: 11 }));
        }
        y += height;
      }
    }
    parts.push(`<line x1="${num(reference)}" y1="${num(first + 10)}" x2="${num(reference)}" y2="${num(y + 2)}" stroke="${COLORS.reference}" stroke-width="1" stroke-dasharray="4 3"/>`);
    parts.push(text(reference, first + 6, '1.0×', { size: 10, color: COLORS.reference, anchor: 'middle' }));
  }
  const height = y + MARGIN;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${num(height)}" viewBox="0 0 ${WIDTH} ${num(height)}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${num(height)}" fill="${COLORS.background}"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function text(x: number, y: number, content: string, style: { size?: number; bold?: boolean; italic?: boolean; color?: string; anchor?: string; title?: string } = {}): string {
  const attributes = [
    `x="${num(x)}"`, `y="${num(y)}"`, `fill="${style.color ?? COLORS.text}"`,
    style.size ? `font-size="${style.size}"` : '', style.bold ? 'font-weight="bold"' : '', style.italic ? 'font-style="italic"' : '',
    style.anchor ? `text-anchor="${style.anchor}"` : '',
  ].filter(Boolean).join(' ');
  const title = style.title === undefined ? '' : `<title>${escape(style.title)}</title>`;
  return `<text ${attributes}>${title}${escape(content)}</text>`;
}

/** Up to `most` lines of at most `width` characters, broken at spaces; the last one cut with … if the text is longer. */
function wrap(label: string, width: number, most: number): string[] {
  const words = label.replaceAll('`', '').split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= width) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = word.length > width ? `${word.slice(0, width - 1)}…` : word;
  }
  if (line) lines.push(line);
  if (lines.length <= most) return lines;
  const kept = lines.slice(0, most);
  kept[most - 1] = `${kept[most - 1]!.slice(0, width - 1)}…`;
  return kept;
}

function ratioText(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** A coordinate: finite, at most one decimal. */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`the chart computed a coordinate that is not a number (${value})`);
  return String(Math.round(value * 10) / 10);
}

function escape(content: string): string {
  return content.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll('\'', '&apos;');
}

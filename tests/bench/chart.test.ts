import { describe, expect, it } from 'vitest';
import { benchmarkChart, chartGroups, type BenchResults } from '../../bench/chart.js';
import type { WarmupScenario } from '../../bench/warmup.js';

const measured = (median: number, runs = [median * 0.98, median, median * 1.03]) => ({ median, runs });
const figure = (name: string, threads: number, gbPerSecond: number) => ({ name, threads, gbPerSecond: measured(gbPerSecond), gbPerCpuSecond: measured(gbPerSecond / threads) });
const links = (received: number) => [{ worker: 'worker-1', received, sent: received / 50 }, { worker: 'worker-2', received: received * 1.02, sent: received / 50 }];
const warm = (key: WarmupScenario['key'], name: string, seconds: number | undefined, received?: number, error?: string): WarmupScenario => ({
  key, name, notes: [], ...(seconds === undefined ? { error } : { seconds: measured(seconds), links: links(received ?? 0) }),
});

/** Every benchmark, shaped as each returns its results (the types are the benchmarks' own). */
function fullResults(): BenchResults {
  return {
    machine: '2 × AMD EPYC, 24 GiB, linux 6.18',
    runs: 3,
    loads: {
      model: 'hearth-benchmark', modelBytes: 1345134464, runs: 3, integrityCost: 0.055,
      scenarios: [
        { name: 'local load (no RPC, no mmap): baseline', seconds: 4, runs: [4, 4.1, 3.9] },
        { name: 'cold load through a Hearth worker', seconds: 7.25, runs: [7.25, 7.3, 7.1] },
        { name: 'warm load through a Hearth worker', seconds: 3.13, runs: [3.13, 3.2, 3.1, 3.0, 3.3] },
        { name: 'warm load, entry verification off', seconds: 2.97, runs: [2.97, 3.0, 2.9, 2.95, 3.1] },
      ],
    },
    manifest: {
      model: 'hearth-benchmark (1.35 GB)', bytes: 1.2e9, tensors: 37, cores: 2,
      figures: {
        read: figure('read only (readSync of 1024 KiB chunks)', 1, 6.2),
        js: figure('JS Fnv1a64, one tensor at a time', 1, 0.25),
        sha256: figure('SHA-256 alone (Node\'s crypto), one tensor at a time', 1, 1.9),
        upstreamLoop: figure('WebAssembly, one tensor at a time (upstream\'s byte-wise loop)', 1, 0.9),
        oneThread: figure('WebAssembly, 4 tensors side by side', 1, 1.6),
        fnvOnly: figure('FNV-1a alone: 2 threads × 4 tensors', 2, 3.12),
        manifest: figure('the manifest, FNV-1a and SHA-256 in one pass: 2 threads × 4 tensors', 2, 1.9),
      },
      digestCost: 1.64, reuseMs: measured(1.2), sameHashes: true, perCore: 0.95, goalMet: true,
    },
    // As in a real bench-report/results.json of this machine.
    reload: {
      model: 'hearth-benchmark', modelBytes: 1345134464, runs: 3, workerTensors: 37, workerBytes: 961544192, upstreamTensors: 37,
      hashing: measured(4.409477493999999, [4.104422716999998, 4.409477493999999, 4.788850211999997]),
      manifest: measured(2.7150993990000023, [2.7150993990000023, 3.0597286099999983, 2.1917624030000007]),
      ratio: 0.6157417523265406, manifestUsed: true, allHits: true, manifestSeconds: 0.5573697160000011,
    },
    warmup: {
      model: 'hearth-benchmark', modelBytes: 1345134464, runs: 3, workers: ['worker-1', 'worker-2'],
      scenarios: [
        warm('upstreamNoCache', 'upstream `ggml-rpc-server`, no cache', 16.1, 700e6),
        warm('upstreamCold', 'upstream `-c`, empty cache (first load)', 16.23, 705e6),
        warm('upstreamWarm', 'upstream `-c`, warm cache', 5.8, 130e6),
        warm('hearthPrewarm', 'Hearth pre-warm (`hearth warm`), empty caches', 9.1, 590e6),
        warm('hearthAfterPrewarm', 'Hearth load after the pre-warm (`hearth load`)', 7.2, 128e6),
        warm('hearthPrewarmAndLoad', 'Hearth pre-warm + load', 16.35, 718e6),
        warm('hearthWarm', 'Hearth load, warm caches', 6.4, 127e6),
        warm('localNoMmap', 'local load (no RPC, `-ngl 0 --no-mmap`): baseline', 1.66),
        warm('localMmap', 'local load with mmap (`-ngl 0`)', undefined, undefined, 'llama-server exited with code 1\nmore lines'),
      ],
      goals: [{ name: 'Hearth warm / local load', ratio: 3.86, limit: 1.2, strict: false, met: false }],
      outputs: [], sameOutput: true,
    },
    link: {
      figures: [
        { name: 'bulk throughput host2 → host1, 256 MiB a run', unit: 'MB/s', raw: measured(117.5), link: measured(117.1), ratio: 0.996, goal: 0.9 },
        { name: 'round trip of 64 bytes, median of 2000 a run', unit: 'µs, lower is better', raw: measured(135), link: measured(453), ratio: 3.36 },
        { name: 'generation through two workers, hearth-benchmark (1.25 GiB), llama-server -t 1 --poll 0', unit: 'tokens/s', raw: measured(11.2), link: measured(11.4), ratio: 1.02, goal: 0.95 },
        { name: 'generation through two workers', unit: '', error: 'the lab could not start: ip netns add failed' },
      ],
      sameTokens: true, generationModel: 'hearth-benchmark and hearth-cache-sized',
    },
  };
}

/** A small well-formedness check: every tag closed in order, attributes quoted, no stray `<` or `&` in text. */
function expectWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const open: string[] = [];
  let last = 0;
  for (const match of body.matchAll(/<[^>]*>/g)) {
    const between = body.slice(last, match.index);
    expect(between, `text before ${match[0]}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/);
    last = match.index + match[0].length;
    const tag = match[0];
    expect(tag, 'a tag with quoted attributes').toMatch(/^<\/?[a-zA-Z][\w:-]*(\s+[\w:-]+="[^"<>]*")*\s*\/?>$/);
    const name = /^<\/?([\w:-]+)/.exec(tag)![1]!;
    if (tag.startsWith('</')) expect(open.pop(), `closing ${tag}`).toBe(name);
    else if (!tag.endsWith('/>')) open.push(name);
  }
  expect(open).toEqual([]);
  expect(body.slice(last).trim()).toBe('');
  expect(body.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
}

describe('chartGroups', () => {
  it('has the four groups, in order, when every benchmark ran', () => {
    expect(chartGroups(fullResults()).map((group) => group.title)).toEqual(['Load time', 'Bytes per link', 'Hashing throughput', 'Link overhead']);
  });

  it('gives a bar per scenario, each the ratio to the baseline of its own benchmark', () => {
    const [load, bytes, hashing, link] = chartGroups(fullResults());
    const [loads, reload, warmup] = load!.panels;
    expect(loads!.bars.map((bar) => bar.ratio)).toEqual([1, 7.25 / 4, 3.13 / 4, 2.97 / 4]);
    expect(loads!.bars[0]).toMatchObject({ label: 'local load (no RPC, no mmap)', baseline: true, detail: '4.00 s' });
    expect(reload!.bars.map((bar) => bar.ratio)).toEqual([1, 2.7150993990000023 / 4.409477493999999]);
    expect(warmup!.bars).toHaveLength(9);
    expect(warmup!.bars.find((bar) => bar.label.startsWith('Hearth load, warm'))!.ratio).toBeCloseTo(6.4 / 1.66, 10);
    // A failed scenario keeps its row, without a bar, saying why.
    expect(warmup!.bars.at(-1)).toEqual({ label: 'local load with mmap (`-ngl 0`)', detail: 'no figure: llama-server exited with code 1' });
    // Bytes: per link (the mean of the workers' cables), against upstream without a cache; local loads left out.
    expect(bytes!.panels[0]!.bars).toHaveLength(7);
    expect(bytes!.panels[0]!.bars[6]).toMatchObject({ label: 'Hearth load, warm caches', detail: '0.13 GB per link' });
    expect(bytes!.panels[0]!.bars[6]!.ratio).toBeCloseTo(127 / 700, 10);
    expect(hashing!.panels[0]!.bars.map((bar) => bar.ratio)).toEqual([6.2 / 0.25, 1, 1.9 / 0.25, 0.9 / 0.25, 1.6 / 0.25, 3.12 / 0.25, 1.9 / 0.25]);
    expect(link!.panels[0]!.bars.map((bar) => bar.ratio)).toEqual([0.996, 3.36, 1.02, undefined]);
  });

  it('leaves out the groups of benchmarks that did not run, or skipped', () => {
    const { reload } = fullResults();
    expect(chartGroups({ reload }).map((group) => group.title)).toEqual(['Load time']);
    expect(chartGroups({ reload })[0]!.panels).toHaveLength(1);
    const skipped: BenchResults = { warmup: { skipped: 'needs root', runs: 3, workers: [], scenarios: [], goals: [], outputs: [] }, link: { skipped: 'needs root', figures: [] } };
    expect(chartGroups(skipped)).toEqual([]);
    expect(chartGroups({})).toEqual([]);
  });

  it('draws no panel whose baseline has no usable figure (zero, missing, not a number)', () => {
    const results = fullResults();
    results.loads!.scenarios[0]!.seconds = 0;
    results.manifest!.figures.js.gbPerSecond.median = Number.NaN;
    results.warmup!.scenarios = results.warmup!.scenarios.filter((s) => s.key !== 'localNoMmap' && s.key !== 'upstreamNoCache');
    expect(chartGroups(results).map((group) => [group.title, group.panels.map((p) => p.title)])).toEqual([
      ['Load time', ['Warm reload, one worker (hearth-benchmark)']],
      ['Link overhead', ['Secure link at 1 Gbit, link / raw TCP']],
    ]);
  });
});

describe('benchmarkChart', () => {
  const svg = benchmarkChart(fullResults());

  it('is well-formed SVG with no scripts, links or external fonts', () => {
    expectWellFormed(svg);
    expect(svg).not.toMatch(/<script|<foreignObject|href=|url\(|@import|@font-face/i);
  });

  it('has a bar per scenario with a figure, labelled with its scenario and its ratio', () => {
    const bars = chartGroups(fullResults()).flatMap((group) => group.panels.flatMap((p) => p.bars));
    const withRatio = bars.filter((bar) => bar.ratio !== undefined);
    // One rect per bar, plus the background.
    expect(svg.match(/<rect /g)).toHaveLength(withRatio.length + 1);
    expect(svg).toContain('>1.81× · 7.25 s</text>');
    expect(svg).toContain('>1.00× · 4.00 s (baseline)</text>');
    expect(svg).toContain('>0.62× · 2.72 s</text>');
    expect(svg).toContain('>24.8× · 6.20 GB/s</text>');
    expect(svg).toContain('>3.36× · 453 vs 135 raw</text>');
    expect(svg).toContain('>cold load through a Hearth worker</text>');
    // Backticks of the report's markdown are dropped, XML characters escaped.
    expect(svg).toContain('>upstream ggml-rpc-server, no cache</text>');
    expect(svg).toContain('>WebAssembly, one tensor at a time (upstream&apos;s byte-wise</text>');
    expect(svg).toContain('>no figure: the lab could not start: ip netns add failed</text>');
  });

  it('draws a 1.0× reference line in every group', () => {
    expect(svg.match(/<line [^>]*stroke-dasharray/g)).toHaveLength(4);
    expect(svg.match(/>1\.0×<\/text>/g)).toHaveLength(4);
  });

  it('wraps a long label over lines instead of running into the bars; one too long for three is cut, whole in a tooltip', () => {
    expect(svg).toMatch(/>generation through two workers, hearth-benchmark \(1\.25<\/text>\s*<text [^>]*>GiB\), llama-server -t 1 --poll 0 \(tokens\/s\)<\/text>/);
    const results = fullResults();
    const long = `generation through two workers, ${'a very long setting, '.repeat(12)}the end`;
    results.link!.figures[2]!.name = long;
    const chart = benchmarkChart(results);
    expect(chart).toContain(`<title>${long} (tokens/s)</title>`);
    const lines = [...chart.matchAll(/<text x="24"[^>]*>(?:<title>[^<]*<\/title>)?([^<]*)<\/text>/g)].map((m) => m[1]!).filter((line) => line.includes('setting') || line.startsWith('generation'));
    expect(lines.filter((line) => line.includes('setting'))).toHaveLength(3);
    expect(lines.at(-2)!.endsWith('…')).toBe(true);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(56);
  });

  it('never writes NaN, Infinity or undefined, even for degenerate results', () => {
    const results = fullResults();
    results.loads!.scenarios[1]!.seconds = Number.POSITIVE_INFINITY;
    results.reload!.manifest.median = Number.NaN;
    results.link!.figures[0]!.ratio = Number.NaN;
    for (const chart of [svg, benchmarkChart(results), benchmarkChart({}), benchmarkChart({ runs: 3 })]) {
      expect(chart).not.toMatch(/NaN|Infinity|undefined/);
      expectWellFormed(chart);
    }
    expect(benchmarkChart({})).toContain('No benchmark results to chart.');
  });

  it('leaves out what did not run', () => {
    const { reload, machine, runs } = fullResults();
    const only = benchmarkChart({ machine, runs, reload });
    expect(only).toContain('Load time');
    for (const absent of ['Bytes per link', 'Hashing throughput', 'Link overhead', 'Loads through one worker']) expect(only).not.toContain(absent);
    expect(only.match(/<rect /g)).toHaveLength(3);
  });
});

// `npm run bench [-- loads manifest reload warmup link heal]`: every benchmark (or the ones named), each figure a ratio
// against a baseline measured in the same run; writes bench-report/report.md, results.json and chart.svg.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchCacheLoads, cacheLoadsReportSection } from './cache-loads.js';
import { benchmarkChart, type BenchResults } from './chart.js';
import { benchHeal, healBenchFailed, healReportSection } from './heal.js';
import { benchLink, linkBenchFailed, linkReportSection } from './link.js';
import { benchManifest, manifestBenchFailed, manifestReportSection } from './manifest.js';
import { benchManifestReload, manifestReloadReportSection } from './manifest-reload.js';
import { benchWarmup, warmupBenchFailed, warmupReportSection } from './warmup.js';

const RUNS = Number(process.env.HEARTH_BENCH_RUNS ?? 3);
const REPORT_DIR = path.resolve('bench-report');

/** Each benchmark: run it, then its report section and whether it failed. */
const BENCHMARKS = {
  loads: async () => {
    const results = await benchCacheLoads({ runs: RUNS, small: process.env.HEARTH_BENCH_MODEL === 'small' });
    return { results, section: cacheLoadsReportSection(results), failed: false };
  },
  manifest: async () => {
    const results = await benchManifest({ runs: RUNS });
    return { results, section: manifestReportSection(results), failed: manifestBenchFailed(results) };
  },
  reload: async () => {
    const results = await benchManifestReload({ runs: RUNS });
    return { results, section: manifestReloadReportSection(results), failed: false };
  },
  warmup: async () => {
    const results = await benchWarmup({ runs: RUNS });
    return { results, section: warmupReportSection(results), failed: warmupBenchFailed(results) };
  },
  link: async () => {
    const results = await benchLink({ runs: RUNS });
    return { results, section: linkReportSection(results), failed: linkBenchFailed(results) };
  },
  heal: async () => {
    const results = await benchHeal({ runs: RUNS });
    return { results, section: healReportSection(results), failed: healBenchFailed(results) };
  },
} as const;
type BenchName = keyof typeof BENCHMARKS;

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}: choose from ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
const names = (asked.length > 0 ? asked : Object.keys(BENCHMARKS)) as BenchName[];

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
const report = ['# Hearth benchmarks', '', `Machine: ${machine}. Runs per scenario: ${RUNS}. ${new Date().toISOString().slice(0, 10)}.`, '', '![Benchmarks](chart.svg)', ''];
const results: Record<string, unknown> = { machine, runs: RUNS };
let failed = false;
for (const name of names) {
  const outcome = await BENCHMARKS[name]();
  report.push(...outcome.section);
  results[name] = outcome.results;
  failed ||= outcome.failed;
}
await mkdir(REPORT_DIR, { recursive: true });
await writeFile(path.join(REPORT_DIR, 'report.md'), report.join('\n'));
await writeFile(path.join(REPORT_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(path.join(REPORT_DIR, 'chart.svg'), benchmarkChart(results as BenchResults));
process.stdout.write(`${report.join('\n')}\nReport written to ${path.relative(process.cwd(), REPORT_DIR)}/report.md\n`);
if (failed) process.exitCode = 1;

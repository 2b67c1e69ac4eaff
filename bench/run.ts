// `npm run bench`: every benchmark, each figure a ratio against a baseline measured in the same run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { syntheticPresets, writeSyntheticLlama } from '../src-main/core/gguf/synthetic/llama-model.js';
import { benchCacheLoads } from './cache-loads.js';

const RUNS = Number(process.env.HEARTH_BENCH_RUNS ?? 3);
const REPORT_DIR = path.resolve('bench-report');

const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-model-'));
try {
  const spec = process.env.HEARTH_BENCH_MODEL === 'small' ? syntheticPresets.cacheSized : syntheticPresets.benchmark;
  const model = path.join(scratch, `${spec.name}.gguf`);
  process.stderr.write(`Writing the synthetic model ${spec.name}…\n`);
  const { bytes } = await writeSyntheticLlama(model, spec);
  process.stderr.write(`Measuring loads (${RUNS} runs each)…\n`);
  const { scenarios, integrityCost } = await benchCacheLoads(model, RUNS);
  const [local, cold, warm] = scenarios;
  const rows = scenarios.map((s) => `| ${s.name} | ${s.seconds.toFixed(2)} | ${(s.seconds / local!.seconds).toFixed(2)}× | ${s.runs.map((r) => r.toFixed(2)).join(', ')} |`);
  const report = [
    `# Hearth benchmarks`,
    '',
    `Model: synthetic ${spec.name}, ${(bytes / 2 ** 30).toFixed(2)} GiB F16; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; one worker on loopback; medians of ${RUNS}.`,
    '',
    '## Loads through one worker (launch to /health ready)',
    '',
    '| scenario | seconds | vs local load | runs |',
    '|---|---|---|---|',
    ...rows,
    '',
    `- warm / cold: **${(warm!.seconds / cold!.seconds).toFixed(2)}×** (the cache's gain)`,
    `- integrity check cost on a warm load: **${(integrityCost * 100).toFixed(1)}%**, median of ${RUNS * 2 - 1} paired loads (goal: at most 10%)`,
    '',
  ].join('\n');
  await mkdir(REPORT_DIR, { recursive: true });
  await writeFile(path.join(REPORT_DIR, 'report.md'), report);
  await writeFile(path.join(REPORT_DIR, 'results.json'), `${JSON.stringify({ model: spec.name, bytes, runs: RUNS, scenarios, integrityCost }, null, 2)}\n`);
  process.stdout.write(`${report}\nReport written to ${path.relative(process.cwd(), REPORT_DIR)}/report.md\n`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}

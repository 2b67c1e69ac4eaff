// Cold vs warm loads through one Hearth worker on loopback, and what verifying entries costs.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { benchModel } from './models.js';
import { ensureTools, type LlamaTools } from '../src-main/core/native/tools.js';
import { runWorker } from '../src-main/core/worker/run-worker.js';
import { median, medianOf, timeLoad } from './measure.js';

/** One measured scenario: median seconds and every run. */
export interface Scenario {
  name: string;
  seconds: number;
  runs: number[];
}

/** The load scenarios, and the integrity check's cost as the median ratio of paired warm loads. */
export interface CacheLoadResults {
  model: string;
  modelBytes: number;
  runs: number;
  scenarios: Scenario[];
  integrityCost: number;
}

async function withWorker<T>(tools: LlamaTools, cacheRoot: string, use: (endpoint: string) => Promise<T>): Promise<T> {
  const worker = await runWorker({ tools, cacheRoot, host: '127.0.0.1', rpcPort: 0, controlPort: 0 });
  try {
    return await use(worker.service.status.endpoint);
  } finally {
    await worker.stop();
  }
}

/** Measure the load scenarios of the worker's cache on a synthetic model (`small`: 108 MiB instead of 1.25 GiB). */
export async function benchCacheLoads(options: { runs: number; small: boolean }): Promise<CacheLoadResults> {
  const { runs } = options;
  const tools = await ensureTools();
  const unverified: LlamaTools = { ...tools, env: { ...tools.env, HEARTH_RPC_VERIFY: '0' } };
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-'));
  const warmRoot = path.join(scratch, 'warm');
  const rpc = (endpoint: string) => ['--rpc', endpoint, '-ngl', '99'];
  try {
    const spec = options.small ? syntheticPresets.cacheSized : syntheticPresets.benchmark;
    const { file: model, bytes } = await benchModel(spec);
    process.stderr.write(`Measuring loads through one worker (${runs} runs each)…\n`);
    const local = await medianOf(runs, () => timeLoad(tools, model, ['-ngl', '0', '--no-mmap']));
    let coldRun = 0;
    const cold = await medianOf(runs, () => withWorker(tools, path.join(scratch, `cold-${coldRun++}`), (endpoint) => timeLoad(tools, model, rpc(endpoint))));
    // Fill the warm cache once, then reload from it with and without verification, interleaved
    // so that both see the same page cache and machine load.
    await withWorker(tools, warmRoot, (endpoint) => timeLoad(tools, model, rpc(endpoint)));
    const verified: number[] = [];
    const plain: number[] = [];
    // The check's cost is small next to the load's noise: more pairs, compared pair by pair.
    for (let i = 0; i < runs * 2 - 1; i++) {
      verified.push(await withWorker(tools, warmRoot, (endpoint) => timeLoad(tools, model, rpc(endpoint))));
      plain.push(await withWorker(unverified, warmRoot, (endpoint) => timeLoad(tools, model, rpc(endpoint))));
    }
    return {
      model: spec.name,
      modelBytes: bytes,
      runs,
      scenarios: [
        { name: 'local load (no RPC, no mmap): baseline', seconds: local.median, runs: local.all },
        { name: 'cold load through a Hearth worker', seconds: cold.median, runs: cold.all },
        { name: 'warm load through a Hearth worker', seconds: median(verified), runs: verified },
        { name: 'warm load, entry verification off', seconds: median(plain), runs: plain },
      ],
      integrityCost: median(verified.map((seconds, i) => seconds / plain[i]! - 1)),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The report's section on loads through one worker. */
export function cacheLoadsReportSection(results: CacheLoadResults): string[] {
  const [local, cold, warm] = results.scenarios;
  return [
    '## Loads through one worker (launch of llama-server to /health ready)',
    '',
    `Synthetic ${results.model}, ${(results.modelBytes / 2 ** 30).toFixed(2)} GiB F16; one worker on loopback; medians of ${results.runs}.`,
    '',
    '| scenario | seconds | vs local load | runs |',
    '|---|---|---|---|',
    ...results.scenarios.map((s) => `| ${s.name} | ${s.seconds.toFixed(2)} | ${(s.seconds / local!.seconds).toFixed(2)}× | ${s.runs.map((r) => r.toFixed(2)).join(', ')} |`),
    '',
    `- warm / cold: **${(warm!.seconds / cold!.seconds).toFixed(2)}×** (the cache's gain)`,
    `- integrity check cost on a warm load: **${(results.integrityCost * 100).toFixed(1)}%**, median of ${results.runs * 2 - 1} paired loads (goal: at most 10%)`,
    '',
  ];
}

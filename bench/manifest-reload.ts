// Warm reloads through one Hearth worker on loopback, with and without the hash manifest: without it
// the client does as upstream (hashes every tensor over 10 MiB, sends the smaller ones); with it
// (patches 0003 and 0005) it takes every hash from the manifest and the worker's cache holds every
// tensor of 1 MiB or more.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RPC_HASH_THRESHOLD } from '../src-main/core/gguf/inspect-model.js';
import { loadOrMakeManifest } from '../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { benchModel } from './models.js';
import { rpcManifestEnv, writeRpcManifest } from '../src-main/core/inference/rpc-manifest-file.js';
import { ensureTools, type LlamaTools } from '../src-main/core/native/tools.js';
import { runWorker, type RunningWorker } from '../src-main/core/worker/run-worker.js';
import { startLlamaServer } from '../tests/helpers/llama-server.js';
import { median } from './measure.js';

/** A figure's median and every run, in seconds. */
export interface ReloadFigure {
  median: number;
  runs: number[];
}

/** What the benchmark measured. */
export interface ManifestReloadResults {
  model: string;
  modelBytes: number;
  runs: number;
  /** Tensors the worker holds (those the manifest lists but the token embedding), and their bytes. */
  workerTensors: number;
  workerBytes: number;
  /** Of those, the ones over upstream's 10 MiB threshold: all a load without the manifest asks for. */
  upstreamTensors: number;
  /** Warm reload without the manifest: the client hashes every tensor over 10 MiB and sends the rest (upstream behaviour). */
  hashing: ReloadFigure;
  /** Warm reload with the manifest. */
  manifest: ReloadFigure;
  /** manifest / hashing, medians. */
  ratio: number;
  /** Every reload with the manifest took every hash from it, none refused; every reload hit every entry it asked for. */
  manifestUsed: boolean;
  allHits: boolean;
  /** Seconds this benchmark took to compute the manifest in TypeScript (made once per model file). */
  manifestSeconds: number;
}

const READY_TIMEOUT_MS = 10 * 60_000;
const SUMMARY = /^hearth-rpc-client manifest .*: (\d+) tensors from the manifest, (\d+) hashed, refused: (.*)$/m;

interface TimedLoad {
  seconds: number;
  fromManifest: number | null;
  refused: string | null;
  hits: number;
}

/** Seconds from launching llama-server through `worker` to /health ready, what the client said, and the worker's hits. */
async function timedLoad(tools: LlamaTools, worker: RunningWorker, model: string, env: NodeJS.ProcessEnv): Promise<TimedLoad> {
  const loadsBefore = worker.service.cache.summary().loads;
  const started = performance.now();
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'], readyTimeoutMs: READY_TIMEOUT_MS });
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  const summary = SUMMARY.exec(server.logs().split('\n').filter((line) => line.startsWith('hearth-rpc-client')).join('\n'));
  const deadline = Date.now() + 10_000;
  while (worker.service.cache.summary().loads <= loadsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  return {
    seconds,
    fromManifest: summary ? Number(summary[1]) : null,
    refused: summary ? summary[3]! : null,
    hits: worker.service.cache.summary().lastLoad?.hits ?? 0,
  };
}

/** Warm reloads of the ~1.3 GB `benchmark` model through one worker, alternating without and with the manifest, `runs` of each. */
export async function benchManifestReload(options: { runs: number }): Promise<ManifestReloadResults> {
  const runs = Math.max(1, options.runs);
  const tools = await ensureTools();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-manifest-'));
  try {
    const spec = syntheticPresets.benchmark;
    const { file: model, bytes } = await benchModel(spec);
    const computing = performance.now();
    // The product's own hash manifest (every core), in a data folder of the run's own.
    const { entries } = await loadOrMakeManifest({ model, dataDir: path.join(scratch, 'data') });
    const manifestSeconds = (performance.now() - computing) / 1000;
    const manifestPath = path.join(scratch, `${spec.name}.manifest`);
    await writeRpcManifest(manifestPath, entries);
    // llama.cpp keeps the token embedding on the host CPU: the worker holds the others.
    const held = entries.filter((entry) => entry.tensor !== 'token_embd.weight');
    const upstreamTensors = held.filter((entry) => entry.size > RPC_HASH_THRESHOLD).length;
    const worker = await runWorker({ tools, cacheRoot: path.join(scratch, 'cache'), host: '127.0.0.1', rpcPort: 0, controlPort: 0 });
    try {
      const withManifest = { ...tools.env, ...rpcManifestEnv(manifestPath) };
      process.stderr.write('Filling the worker\'s cache (one cold load)…\n');
      await timedLoad(tools, worker, model, withManifest);
      process.stderr.write(`Measuring warm reloads with and without the manifest (${runs} of each)…\n`);
      const hashing: TimedLoad[] = [];
      const manifest: TimedLoad[] = [];
      for (let i = 0; i < runs; i++) {
        // Alternate which goes first, so that both see the same page cache and machine load.
        for (const use of i % 2 ? [true, false] : [false, true]) {
          if (use) manifest.push(await timedLoad(tools, worker, model, withManifest));
          else hashing.push(await timedLoad(tools, worker, model, tools.env));
        }
      }
      const figure = (loads: TimedLoad[]): ReloadFigure => ({ median: median(loads.map((l) => l.seconds)), runs: loads.map((l) => l.seconds) });
      return {
        model: spec.name,
        modelBytes: bytes,
        runs,
        workerTensors: held.length,
        workerBytes: held.reduce((sum, entry) => sum + entry.size, 0),
        upstreamTensors,
        hashing: figure(hashing),
        manifest: figure(manifest),
        ratio: figure(manifest).median / figure(hashing).median,
        manifestUsed: manifest.every((load) => load.fromManifest === held.length && load.refused === 'none'),
        allHits: hashing.every((load) => load.hits === upstreamTensors) && manifest.every((load) => load.hits === held.length),
        manifestSeconds,
      };
    } finally {
      await worker.stop();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The report's section on warm reloads with the manifest. */
export function manifestReloadReportSection(results: ManifestReloadResults): string[] {
  const runs = (figure: ReloadFigure) => figure.runs.map((seconds) => seconds.toFixed(2)).join(', ');
  const saved = results.hashing.median - results.manifest.median;
  return [
    '## Warm reload with the hash manifest (launch of llama-server to /health ready)',
    '',
    `Synthetic ${results.model}, ${(results.modelBytes / 2 ** 30).toFixed(2)} GiB F16 (mmap, llama-server's default); one worker on loopback with a warm cache holding ` +
      `the ${results.workerTensors} tensors of 1 MiB or more (${(results.workerBytes / 2 ** 30).toFixed(2)} GiB); medians of ${results.runs}, loads alternating.`,
    '',
    '| scenario | seconds | runs |',
    '|---|---|---|',
    `| warm reload without the manifest (upstream: the client hashes the ${results.upstreamTensors} tensors over 10 MiB, sends the rest) | ${results.hashing.median.toFixed(2)} | ${runs(results.hashing)} |`,
    `| warm reload with \`HEARTH_RPC_MANIFEST\` (every hash from it, all ${results.workerTensors} from the cache) | ${results.manifest.median.toFixed(2)} | ${runs(results.manifest)} |`,
    '',
    `- with / without the manifest: **${results.ratio.toFixed(2)}×** (${saved.toFixed(2)} s saved)`,
    `- every reload with the manifest took all ${results.workerTensors} hashes from it (one checked in full), none refused: ${results.manifestUsed ? 'yes' : '**no**'}; every reload hit every entry it asked for: ${results.allHits ? 'yes' : '**no**'}`,
    `- making the hash manifest itself (FNV-1a and SHA-256 of every tensor it lists, on every core) took ${results.manifestSeconds.toFixed(1)} s, once per model file`,
    '',
  ];
}

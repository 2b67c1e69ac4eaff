// The hash manifest's throughput on a synthetic model, against baselines measured in the same
// run over the same bytes: reading them, hashing them with the JS Fnv1a64, upstream's loop (one
// tensor at a time, byte by byte) in the same WebAssembly, SHA-256 alone, and the manifest's own
// threads with FNV-1a alone: what taking each tensor's SHA-256 in the same pass costs.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Fnv1a64 } from '../src-main/core/cache/checksums.js';
import { inspectModel, isCachedTensor, type ModelFacts } from '../src-main/core/gguf/inspect-model.js';
import { LANE_BYTES, LANES } from '../src-main/core/gguf/manifest/fnv-lanes-wasm.js';
import { hashRanges, type ByteRange } from '../src-main/core/gguf/manifest/hash-ranges.js';
import { loadOrMakeManifest } from '../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { benchModel } from './models.js';
import { median } from './measure.js';

/** The goal: at least this many GB/s per core. */
const MANIFEST_GOAL_GB_PER_CORE = 0.8;

/** A figure's median and every run. */
export interface Measured {
  median: number;
  runs: number[];
}

/** One way of getting through the cached tensors' bytes. */
export interface ManifestFigure {
  name: string;
  threads: number;
  /** GB (1e9 bytes) a second of wall time. */
  gbPerSecond: Measured;
  /** GB a second of CPU time, all threads together: what a core does, whatever else runs on the machine. */
  gbPerCpuSecond: Measured;
}

/** What the benchmark measured. */
export interface ManifestBenchResults {
  model: string;
  /** Bytes of tensors over the threshold, and how many there are. */
  bytes: number;
  tensors: number;
  cores: number;
  figures: { read: ManifestFigure; js: ManifestFigure; sha256: ManifestFigure; upstreamLoop: ManifestFigure; oneThread: ManifestFigure; fnvOnly: ManifestFigure; manifest: ManifestFigure };
  /** Wall time of the manifest (FNV-1a and SHA-256) over that of the same threads with FNV-1a alone, medians: the digests' cost. */
  digestCost: number;
  /** Milliseconds to return the stored manifest of the unchanged file. */
  reuseMs: Measured;
  /** Whether every method gave the same hashes. */
  sameHashes: boolean;
  /** The manifest's wall-time GB/s divided by its threads, and whether it meets the goal. */
  perCore: number;
  goalMet: boolean;
}

interface Sample {
  seconds: number;
  cpuSeconds: number;
  hashes: string[];
}

/** Measure each way `runs` times (rounds interleaved, so all see the same page cache and machine load). */
export async function benchManifest(options: { runs: number }): Promise<ManifestBenchResults> {
  const spec = syntheticPresets.benchmark;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-manifest-'));
  try {
    const { file } = await benchModel(spec);
    const facts = await inspectModel(file);
    const ranges: ByteRange[] = facts.tensors.filter(isCachedTensor).map((tensor) => ({ offset: tensor.fileOffset, size: tensor.byteSize }));
    const bytes = ranges.reduce((sum, range) => sum + range.size, 0);
    const threads = Math.min(os.availableParallelism(), ranges.length);
    readOnce(file, ranges); // into the page cache: every figure reads from memory, as a reload does

    let made = 0;
    const manifestDir = () => path.join(scratch, `data-${made++}`);
    const ways = {
      read: {
        threads: 1,
        run: () => timed(async () => {
          readOnce(file, ranges);
          return [];
        }),
      },
      js: { threads: 1, run: () => timed(async () => hashWithJs(file, ranges)) },
      sha256: { threads: 1, run: () => timed(async () => sha256Each(file, ranges)) },
      upstreamLoop: { threads: 1, run: () => timed(async () => digests(await hashRanges(file, ranges, { threads: 1, lanesPerThread: 1 }))) },
      oneThread: { threads: 1, run: () => timed(async () => digests(await hashRanges(file, ranges, { threads: 1, sha256: false }))) },
      fnvOnly: { threads, run: () => timed(async () => digests(await hashRanges(file, ranges, { threads, sha256: false }))) },
      manifest: { threads, run: () => timed(async () => (await loadOrMakeManifest({ model: facts, dataDir: manifestDir() })).entries.map((entry) => entry.hash)) },
    } as const;
    type Way = keyof typeof ways;
    const samples = Object.fromEntries(Object.keys(ways).map((way) => [way, [] as Sample[]])) as Record<Way, Sample[]>;
    const reuse: number[] = [];
    for (let round = 0; round < options.runs; round++) {
      process.stderr.write(`Hashing ${(bytes / 1e9).toFixed(2)} GB of tensors, round ${round + 1} of ${options.runs}…\n`);
      for (const way of Object.keys(ways) as Way[]) samples[way].push(await ways[way].run());
      reuse.push(await timeReuse(facts, path.join(scratch, `data-${made - 1}`)));
    }

    const reference = samples.js[0]!.hashes;
    const sameHashes = (Object.keys(ways) as Way[]).every((way) => way === 'read' || way === 'sha256' || samples[way].every((sample) => sample.hashes.join() === reference.join()));
    const figure = (way: Way, name: string): ManifestFigure => ({
      name,
      threads: ways[way].threads,
      gbPerSecond: measured(samples[way].map((sample) => bytes / sample.seconds / 1e9)),
      gbPerCpuSecond: measured(samples[way].map((sample) => bytes / sample.cpuSeconds / 1e9)),
    });
    const figures = {
      read: figure('read', `read only (readSync of ${LANE_BYTES / 1024} KiB chunks)`),
      js: figure('js', 'JS Fnv1a64, one tensor at a time'),
      sha256: figure('sha256', 'SHA-256 alone (Node\'s crypto), one tensor at a time'),
      upstreamLoop: figure('upstreamLoop', 'WebAssembly, one tensor at a time (upstream\'s byte-wise loop)'),
      oneThread: figure('oneThread', `WebAssembly, ${LANES} tensors side by side`),
      fnvOnly: figure('fnvOnly', `FNV-1a alone: ${threads} threads × ${LANES} tensors`),
      manifest: figure('manifest', `the manifest, FNV-1a and SHA-256 in one pass: ${threads} threads × ${LANES} tensors`),
    };
    const seconds = (way: Way) => median(samples[way].map((sample) => sample.seconds));
    const perCore = figures.manifest.gbPerSecond.median / threads;
    return {
      model: `${spec.name} (${(facts.fileBytes / 1e9).toFixed(2)} GB)`,
      bytes,
      tensors: ranges.length,
      cores: os.availableParallelism(),
      figures,
      digestCost: seconds('manifest') / seconds('fnvOnly'),
      reuseMs: measured(reuse),
      sameHashes,
      perCore,
      goalMet: sameHashes && perCore >= MANIFEST_GOAL_GB_PER_CORE,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Whether the benchmark found a fault (methods disagreeing on a hash); a missed speed goal is reported, not a fault. */
export function manifestBenchFailed(results: ManifestBenchResults): boolean {
  return !results.sameHashes;
}

/** The report's section on the hash manifest. */
export function manifestReportSection(results: ManifestBenchResults): string[] {
  const { read, js } = results.figures;
  const lines = [
    '## Hash manifest',
    '',
    `FNV-1a 64 and SHA-256 of the ${results.tensors} tensors of 1 MiB or more of ${results.model} (what its manifest lists): ${(results.bytes / 1e9).toFixed(2)} GB, read from the page cache. ` +
      `${results.cores} cores. Baselines from the same run: reading the same bytes, hashing them with the JS Fnv1a64, with SHA-256 alone, and the manifest's threads with FNV-1a alone.`,
    '',
    '| way | threads | GB/s | GB/s per core | GB per CPU-second | × JS Fnv1a64 | of read speed | runs (GB/s) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const figure of Object.values(results.figures)) {
    const speed = figure.gbPerSecond.median;
    const runs = figure.gbPerSecond.runs.map((value) => value.toFixed(2)).join(', ');
    const versusJs = figure === read ? '–' : `**${(speed / js.gbPerSecond.median).toFixed(2)}**`;
    lines.push(`| ${figure.name} | ${figure.threads} | ${speed.toFixed(2)} | ${(speed / figure.threads).toFixed(2)} | ${figure.gbPerCpuSecond.median.toFixed(2)} | ${versusJs} | ${(speed / read.gbPerSecond.median).toFixed(2)} | ${runs} |`);
  }
  lines.push(
    '',
    `- goal ≥ ${MANIFEST_GOAL_GB_PER_CORE} GB/s per core: ${results.goalMet ? 'met' : '**not met**'} (${results.perCore.toFixed(2)} GB/s per core: the manifest's wall-time speed over its threads)`,
    `- the SHA-256 digests' cost: the manifest takes **${results.digestCost.toFixed(2)}×** the time of its threads hashing FNV-1a alone (once per model file; a stored manifest is reused)`,
    `- FNV-1a hashes identical across every way: ${results.sameHashes ? 'yes' : '**no**'}`,
    `- reusing the stored manifest of the unchanged file: ${results.reuseMs.median.toFixed(1)} ms (median of ${results.reuseMs.runs.length})`,
    '- GB per CPU-second counts the CPU time of every thread of the process: it stays fair when other work shares the cores; wall time does not.',
    '',
  );
  return lines;
}

/** Wall and CPU seconds of `work`, and the hashes it returned. */
async function timed(work: () => Promise<string[]>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const hashes = await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, hashes };
}

async function timeReuse(facts: ModelFacts, dataDir: string): Promise<number> {
  const started = performance.now();
  let hashed = false;
  await loadOrMakeManifest({ model: facts, dataDir, onProgress: () => (hashed = true) });
  if (hashed) throw new Error('the stored manifest was not reused');
  return performance.now() - started;
}

/** Read every range in chunks, as the hashing threads do, and do nothing with the bytes. */
function readOnce(file: string, ranges: readonly ByteRange[], use: (chunk: Buffer) => void = () => {}): void {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(LANE_BYTES);
  try {
    for (const range of ranges) {
      for (let done = 0; done < range.size;) {
        const read = readSync(fd, chunk, 0, Math.min(LANE_BYTES, range.size - done), range.offset + done);
        if (read === 0) throw new Error(`${file} ended early`);
        use(chunk.subarray(0, read));
        done += read;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Each range's SHA-256, one at a time (not compared: the other ways give FNV-1a). */
function sha256Each(file: string, ranges: readonly ByteRange[]): string[] {
  for (const range of ranges) {
    const sha256 = createHash('sha256');
    readOnce(file, [range], (chunk) => sha256.update(chunk));
    sha256.digest();
  }
  return [];
}

function hashWithJs(file: string, ranges: readonly ByteRange[]): string[] {
  return ranges.map((range) => {
    const fnv = new Fnv1a64();
    readOnce(file, [range], (chunk) => fnv.update(chunk));
    return fnv.digestHex();
  });
}

function digests(list: { hash: string }[]): string[] {
  return list.map((digest) => digest.hash);
}

function measured(runs: number[]): Measured {
  return { median: median(runs), runs };
}

// Hash byte ranges of a file (a model's cached tensors) with FNV-1a 64 and SHA-256 on worker
// threads: one per core, each reading chunks straight into its WebAssembly memory, hashing up to
// four tensors side by side with FNV-1a (see fnv-lanes-wasm.ts) and each chunk with Node's SHA-256
// while it is still in the CPU's cache: one read of the bytes for both. Threads take the next
// tensor, largest first, from a shared counter, so one big tensor never waits behind many small ones.
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HearthError } from '../../base/errors.js';
import { DATA_AT, fnvLanesModule, LANE_BYTES, LANES, PROBE_STATES_AT, STATES_AT } from './fnv-lanes-wasm.js';
import { PROBE_BYTES } from './hash-manifest.js';
import { HASH_WORKER_SOURCE, type HashWorkerData, type HashWorkerMessage } from './hash-worker-source.js';

const PROGRESS_BYTES = 32 * 2 ** 20;

/** A run of bytes in the file. */
export interface ByteRange {
  offset: number;
  size: number;
}

/** The FNV-1a 64 of a range and of its probe (first then last PROBE_BYTES), as 16 lowercase hex digits each, and the range's SHA-256 (`sha256:<hex>`; empty when not asked for). */
export interface RangeDigest {
  hash: string;
  probe: string;
  digest: string;
}

/** How far hashing has come. */
export interface HashProgress {
  bytesDone: number;
  bytesTotal: number;
}

/** How to hash: threads default to one per core (never more than ranges), lanes to four. */
export interface HashRangesOptions {
  threads?: number;
  /** Tensors one thread hashes side by side, 1 to 4 (1 is upstream's one-at-a-time loop; for benchmarks). */
  lanesPerThread?: number;
  /** Also take each range's SHA-256 (default true; false only for the benchmark's FNV-alone baseline). */
  sha256?: boolean;
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
}

/** The digest of every range, in the order given; a read failure becomes a HearthError naming the file. */
export async function hashRanges(filePath: string, ranges: readonly ByteRange[], options: HashRangesOptions = {}): Promise<RangeDigest[]> {
  options.signal?.throwIfAborted();
  if (ranges.length === 0) return [];
  const lanes = options.lanesPerThread ?? LANES;
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > LANES) throw new RangeError(`lanesPerThread must be 1 to ${LANES}, got ${lanes}`);
  const threads = Math.max(1, Math.min(options.threads ?? os.availableParallelism(), ranges.length));
  const order = ranges.map((_, index) => index).sort((a, b) => ranges[b]!.size - ranges[a]!.size);
  const handle = await openForHashing(filePath);
  const data: HashWorkerData = {
    module: fnvLanesModule(),
    fd: handle.fd,
    ranges: order.map((index) => ({ offset: ranges[index]!.offset, size: ranges[index]!.size })),
    next: new Int32Array(new SharedArrayBuffer(4)),
    lanes,
    sha256: options.sha256 ?? true,
    layout: { laneBytes: LANE_BYTES, statesAt: STATES_AT, probeStatesAt: PROBE_STATES_AT, dataAt: DATA_AT, probeBytes: PROBE_BYTES },
    progressBytes: PROGRESS_BYTES,
  };
  const bytesTotal = ranges.reduce((sum, range) => sum + range.size, 0);
  const digests: (RangeDigest | undefined)[] = new Array(ranges.length);
  let bytesDone = 0;

  const workers: Worker[] = [];
  const runs = Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
    const worker = new Worker(HASH_WORKER_SOURCE, { eval: true, workerData: data });
    workers.push(worker);
    let finished = false;
    worker.on('message', (message: HashWorkerMessage) => {
      if (message.kind === 'digest') {
        digests[order[message.index]!] = { hash: message.hash, probe: message.probe, digest: message.digest };
      } else if (message.kind === 'progress') {
        bytesDone += message.bytes;
        options.onProgress?.({ bytesDone, bytesTotal });
      } else {
        finished = true;
        resolve();
      }
    });
    worker.on('error', (error) => reject(new HearthError('model-read', `${filePath}: could not read it to hash its tensors (${error.message})`, { cause: error })));
    worker.on('exit', (code) => {
      if (!finished) reject(new HearthError('model-read', `${filePath}: a hashing thread stopped before it finished (exit code ${code})`));
    });
  }));

  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Settled or not, stop listening once the threads are done.
    void Promise.allSettled(runs).then(() => options.signal?.removeEventListener('abort', onAbort));
  });
  try {
    await Promise.race([Promise.all(runs), aborted]);
  } finally {
    // The threads read through this descriptor: it is closed only once every one has stopped.
    await Promise.all(workers.map((worker) => worker.terminate()));
    await handle.close();
  }
  return digests.map((digest, index) => {
    if (!digest) throw new HearthError('model-read', `${filePath}: no hash came back for the range at byte ${ranges[index]!.offset}`);
    return digest;
  });
}

async function openForHashing(filePath: string): Promise<FileHandle> {
  try {
    return await open(filePath, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : `cannot be read (${(error as Error).message})`;
    throw new HearthError('model-read', `${filePath}: ${problem}`, { cause: error });
  }
}

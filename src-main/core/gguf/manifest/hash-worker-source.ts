// The hashing thread, as source text for `new Worker(source, { eval: true })`. A string because
// a worker needs a JavaScript file of its own, and the same code must run from dist/ (tsc), under
// tsx (benchmarks), under Vitest (which compiles .ts in memory, so no .js sibling exists) and in
// Electron's asar; a function's toString() breaks once a transpiler inserts helpers into it.
// Kept short and plain; tests/core/gguf/manifest runs every line of it.

/** What the thread receives in its workerData. */
export interface HashWorkerData {
  /** The compiled module of fnv-lanes-wasm.ts. */
  module: object;
  /** An open descriptor of the file (descriptors belong to the process; the caller closes it after the threads stop). */
  fd: number;
  /** The tensors, largest first; a thread takes the next one by incrementing `next[0]`. */
  ranges: { offset: number; size: number }[];
  next: Int32Array;
  /** How many tensors one thread hashes side by side (1 to 4). */
  lanes: number;
  /** Whether to take each tensor's SHA-256 too. */
  sha256: boolean;
  layout: { laneBytes: number; statesAt: number; probeStatesAt: number; dataAt: number; probeBytes: number };
  /** Post progress after at least this many bytes. */
  progressBytes: number;
}

/** What the thread posts: progress (bytes since the last report), one digest per tensor, then done. */
export type HashWorkerMessage =
  | { kind: 'progress'; bytes: number }
  | { kind: 'digest'; index: number; hash: string; probe: string; digest: string }
  | { kind: 'done' };

export const HASH_WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { module, fd, ranges, next, lanes, sha256, layout, progressBytes } = workerData;
const { laneBytes, statesAt, probeStatesAt, dataAt, probeBytes } = layout;
const { exports } = new WebAssembly.Instance(module);
const memory = new Uint8Array(exports.memory.buffer);
const view = new DataView(exports.memory.buffer);

function readInto(at, length, position, end) {
  for (let done = 0; done < length;) {
    const read = readSync(fd, memory, at + done, length - done, position + done);
    if (read === 0) throw new Error('the file ends at byte ' + (position + done) + ', inside a tensor that runs to byte ' + end);
    done += read;
  }
}
function resetState(at) {
  view.setUint32(at, 0x84222325, true); // FNV-1a 64 offset basis 0xcbf29ce484222325, low half first
  view.setUint32(at + 4, 0xcbf29ce4, true);
}
function stateHex(at) {
  return view.getUint32(at + 4, true).toString(16).padStart(8, '0') + view.getUint32(at, true).toString(16).padStart(8, '0');
}
function claim(lane) {
  const index = Atomics.add(next, 0, 1);
  if (index >= ranges.length) return null;
  resetState(statesAt + 8 * lane);
  return { index, range: ranges[index], done: 0, sha256: sha256 ? createHash('sha256') : null };
}
// The probe: the first and then the last probeBytes of the tensor, one running hash.
function probe(range) {
  const length = Math.min(probeBytes, range.size);
  const end = range.offset + range.size;
  resetState(probeStatesAt);
  readInto(dataAt, length, range.offset, end);
  exports.update1(probeStatesAt, dataAt, length);
  readInto(dataAt, length, end - length, end);
  exports.update1(probeStatesAt, dataAt, length);
  return stateHex(probeStatesAt);
}

const jobs = [];
for (let lane = 0; lane < lanes; lane++) jobs.push(claim(lane));
let unreported = 0;
while (jobs.some((job) => job !== null)) {
  // One step: the same number of bytes for every busy lane. Four lanes when two or more are busy
  // (idle ones hash stale bytes, unread); a lone busy lane alone, which is faster.
  let step = laneBytes;
  let busyLanes = 0;
  let lastBusy = 0;
  for (let lane = 0; lane < lanes; lane++) {
    const job = jobs[lane];
    if (!job) continue;
    step = Math.min(step, job.range.size - job.done);
    busyLanes++;
    lastBusy = lane;
  }
  for (let lane = 0; lane < lanes; lane++) {
    const job = jobs[lane];
    if (!job) continue;
    const at = dataAt + lane * laneBytes;
    readInto(at, step, job.range.offset + job.done, job.range.offset + job.range.size);
    // Straight from the module's memory, while the chunk is still in the CPU's cache.
    if (job.sha256) job.sha256.update(memory.subarray(at, at + step));
  }
  if (busyLanes === 1) exports.update1(statesAt + 8 * lastBusy, dataAt + lastBusy * laneBytes, step);
  else exports.update4(statesAt, dataAt, step);
  for (let lane = 0; lane < lanes; lane++) {
    const job = jobs[lane];
    if (!job) continue;
    job.done += step;
    unreported += step;
    if (job.done < job.range.size) continue;
    const digest = job.sha256 ? 'sha256:' + job.sha256.digest('hex') : '';
    parentPort.postMessage({ kind: 'digest', index: job.index, hash: stateHex(statesAt + 8 * lane), probe: probe(job.range), digest });
    jobs[lane] = claim(lane);
  }
  if (unreported >= progressBytes) {
    parentPort.postMessage({ kind: 'progress', bytes: unreported });
    unreported = 0;
  }
}
if (unreported > 0) parentPort.postMessage({ kind: 'progress', bytes: unreported });
parentPort.postMessage({ kind: 'done' });

`;

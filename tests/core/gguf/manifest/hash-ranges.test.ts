// The threaded WebAssembly hasher against the JS Fnv1a64 (and its SHA-256 against one of the whole
// range), on ranges chosen to hit every edge of its lane scheduling: sizes that end mid-chunk, on a
// chunk edge, below the probe size, empty.
import { randomFillSync } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Fnv1a64 } from '../../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../../src-main/core/cache/entry-digest.js';
import { isHearthError } from '../../../../src-main/core/base/errors.js';
import { LANE_BYTES } from '../../../../src-main/core/gguf/manifest/fnv-lanes-wasm.js';
import { PROBE_BYTES } from '../../../../src-main/core/gguf/manifest/hash-manifest.js';
import { hashRanges, type ByteRange, type HashProgress } from '../../../../src-main/core/gguf/manifest/hash-ranges.js';
import { scratchDir } from '../../../helpers/models.js';

const FILE_BYTES = 48 * 2 ** 20;
const RANGES: ByteRange[] = [
  { offset: 0, size: 11 * 2 ** 20 + 1 },
  { offset: 7, size: 20_000_003 },
  { offset: 30_000_000, size: LANE_BYTES * 3 },
  { offset: 100, size: LANE_BYTES * 2 + 1 },
  { offset: 33_000_001, size: FILE_BYTES - 33_000_001 }, // to the last byte of the file
  { offset: 12_345, size: PROBE_BYTES + 10 }, // the probe's two halves overlap
  { offset: 5, size: 3 },
  { offset: 9, size: 0 },
];

let file: string;
let bytes: Buffer;

/** The digests computed independently: byte by byte with the JS Fnv1a64, and SHA-256 over the range in one piece. */
function reference(range: ByteRange): { hash: string; probe: string; digest: string } {
  const tensor = bytes.subarray(range.offset, range.offset + range.size);
  const ends = Math.min(PROBE_BYTES, range.size);
  return {
    hash: new Fnv1a64().update(tensor).digestHex(),
    probe: new Fnv1a64().update(tensor.subarray(0, ends)).update(tensor.subarray(range.size - ends)).digestHex(),
    digest: digestOf(tensor),
  };
}

beforeAll(async () => {
  bytes = randomFillSync(Buffer.alloc(FILE_BYTES));
  file = path.join(scratchDir('hearth-hash-'), 'random.bin');
  await writeFile(file, bytes);
});

describe('hashRanges', () => {
  it('gives every range the FNV-1a 64, probe and SHA-256 the references give, with any threads and lanes', async () => {
    const expected = RANGES.map(reference);
    // Hashes of distinct random ranges differ: a mix-up of results between ranges would show.
    expect(new Set(expected.map((digest) => digest.hash)).size).toBe(RANGES.length);
    for (const [threads, lanesPerThread] of [[1, 1], [1, 4], [2, 4], [2, 3]] as const) {
      expect(await hashRanges(file, RANGES, { threads, lanesPerThread }), `${threads} threads × ${lanesPerThread} lanes`).toEqual(expected);
    }
    // The benchmark's baseline: FNV-1a alone.
    expect(await hashRanges(file, RANGES, { sha256: false })).toEqual(expected.map((digest) => ({ ...digest, digest: '' })));
  });

  it('reports progress that only grows and ends at the total', async () => {
    const seen: HashProgress[] = [];
    await hashRanges(file, RANGES, { onProgress: (progress) => seen.push(progress) });
    const total = RANGES.reduce((sum, range) => sum + range.size, 0);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((progress, i) => progress.bytesTotal === total && (i === 0 || progress.bytesDone > seen[i - 1]!.bytesDone))).toBe(true);
    expect(seen.at(-1)!.bytesDone).toBe(total);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    const hashing = hashRanges(file, RANGES, { threads: 1, lanesPerThread: 1, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(hashing).rejects.toMatchObject({ name: 'AbortError' });
    await expect(hashRanges(file, RANGES, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it.skipIf(process.platform !== 'linux')('leaves no file open after an abort or a failure', async () => {
    const openFiles = async () => (await readdir('/proc/self/fd')).length;
    const before = await openFiles();
    const controller = new AbortController();
    await hashRanges(file, RANGES, { signal: controller.signal, onProgress: () => controller.abort() }).catch(() => undefined);
    await hashRanges(file, [{ offset: FILE_BYTES - 1, size: 2 }]).catch(() => undefined);
    expect(await openFiles()).toBe(before);
  });

  it('a range past the end of the file is a HearthError naming the file and where it ended', async () => {
    const error = await hashRanges(file, [{ offset: FILE_BYTES - 100, size: 200 }]).catch((caught: unknown) => caught);
    expect(isHearthError(error)).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(`the file ends at byte ${FILE_BYTES}`);
  });
});

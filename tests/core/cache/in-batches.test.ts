import { describe, expect, it } from 'vitest';
import { inBatches } from '../../../src-main/core/cache/in-batches.js';

async function* chunks(sizes: number[], failAfter?: Error): AsyncGenerator<Uint8Array> {
  let next = 0;
  for (const size of sizes) {
    const chunk = new Uint8Array(size);
    for (let i = 0; i < size; i++) chunk[i] = next++ & 0xff;
    yield chunk;
  }
  if (failAfter) throw failAfter;
}

const stall = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(source: AsyncIterable<Uint8Array>): Promise<{ runs: Uint8Array[]; error: unknown }> {
  const runs: Uint8Array[] = [];
  try {
    for await (const run of source) runs.push(run);
  } catch (error) {
    return { runs, error };
  }
  return { runs, error: null };
}

const counting = (length: number) => Uint8Array.from({ length }, (_, i) => i & 0xff);

describe('inBatches', () => {
  it('joins chunks into runs of at least the minimum, keeping every byte in order', async () => {
    const { runs, error } = await collect(inBatches(chunks([300, 300, 300, 300, 50, 2000, 10]), { minBytes: 1000 }));
    expect(error).toBeNull();
    expect(runs.map((run) => run.length)).toEqual([1200, 2050, 10]);
    expect(Buffer.concat(runs)).toEqual(Buffer.from(counting(3260)));
  });

  it('passes on what arrived before a failure, then rethrows it', async () => {
    const failure = new Error('the client went away');
    const { runs, error } = await collect(inBatches(chunks([400, 400, 400, 100], failure), { minBytes: 1000 }));
    expect(error).toBe(failure);
    expect(runs.map((run) => run.length)).toEqual([1200, 100]);
    expect(Buffer.concat(runs)).toEqual(Buffer.from(counting(1300)));
  });

  it('yields nothing for an empty source and only rethrows for one that fails at once', async () => {
    expect((await collect(inBatches(chunks([]), { minBytes: 1000 }))).runs).toEqual([]);
    const failure = new Error('reset');
    expect(await collect(inBatches(chunks([], failure), { minBytes: 1000 }))).toEqual({ runs: [], error: failure });
  });

  it('passes a run on when its first chunk has waited long enough, and carries the pending read into the next run', async () => {
    async function* stalling(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(100).fill(1);
      await stall(300);
      yield new Uint8Array(100).fill(2);
    }
    const seen: { length: number; first: number; at: number }[] = [];
    const started = Date.now();
    for await (const run of inBatches(stalling(), { minBytes: 1000, maxWaitMs: 20 })) seen.push({ length: run.length, first: run[0]!, at: Date.now() - started });
    expect(seen.map(({ length, first }) => [length, first])).toEqual([[100, 1], [100, 2]]);
    // The first run did not wait for the stalled second chunk (300 ms later).
    expect(seen[0]!.at).toBeLessThan(250);
  });

  it('stops reading as soon as the bytes exceed the limit', async () => {
    let pulls = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulls++;
        yield new Uint8Array(100);
      }
    }
    for await (const run of inBatches(endless(), { minBytes: 1 << 20, limit: 250 })) {
      expect(run.length).toBe(300);
      break;
    }
    expect(pulls).toBe(3);
  });

  it('stops the source when the consumer stops early', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield new Uint8Array(600);
      } finally {
        finished = true;
      }
    }
    for await (const run of inBatches(source(), { minBytes: 1000 })) {
      expect(run.length).toBe(1200);
      break;
    }
    await stall(0);
    expect(finished).toBe(true);
  });
});

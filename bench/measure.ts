// Small measuring tools for the benchmarks: medians and timed llama-server loads.
import { startLlamaServer } from '../tests/helpers/llama-server.js';
import type { LlamaTools } from '../src-main/core/native/tools.js';

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Seconds from launching llama-server on `model` to its /health answering 200 (the model loaded). */
export async function timeLoad(tools: LlamaTools, model: string, args: string[]): Promise<number> {
  const started = performance.now();
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args, readyTimeoutMs: 10 * 60_000 });
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  return seconds;
}

/** Run `measure` `runs` times (after `prepare` each time) and return the median. */
export async function medianOf(runs: number, measure: () => Promise<number>, prepare: () => Promise<void> = async () => {}): Promise<{ median: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    await prepare();
    all.push(await measure());
  }
  return { median: median(all), all };
}

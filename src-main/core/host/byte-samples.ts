// Bytes moved over time for the warm-up and load charts: at most one sample per interval, and a
// bounded count however long the work runs (when full, every other sample is dropped, so the
// chart keeps its whole span at a coarser step).
import type { ByteSample } from '../api/contract.js';

const MIN_STEP_MS = 250;
const MAX_SAMPLES = 240;

export class ByteSamples {
  readonly #started: number;
  readonly #clock: () => number;
  #samples: ByteSample[] = [];
  #stepMs = MIN_STEP_MS;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
    this.#started = clock();
    this.#samples.push({ atMs: 0, bytes: 0 });
  }

  /** Note the total moved so far; `final` always keeps it (the last point of the chart). */
  add(bytes: number, final = false): void {
    const atMs = this.#clock() - this.#started;
    const last = this.#samples.at(-1)!;
    if (!final && atMs - last.atMs < this.#stepMs) return;
    this.#samples.push({ atMs, bytes });
    if (this.#samples.length > MAX_SAMPLES) {
      this.#samples = this.#samples.filter((_, index) => index % 2 === 0 || index === this.#samples.length - 1);
      this.#stepMs *= 2;
    }
  }

  get samples(): ByteSample[] {
    return [...this.#samples];
  }
}

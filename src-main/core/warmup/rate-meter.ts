// Bytes per second over the last few seconds, and the time left at that rate: a recent window,
// so a stall or a faster stretch shows within seconds instead of being averaged away.

const WINDOW_MS = 5000;
// Below this a rate is noise (the first chunk over no time at all).
const MIN_SPAN_MS = 200;

/** A moving measure of how fast bytes move. */
export class RateMeter {
  readonly #clock: () => number;
  readonly #samples: { at: number; total: number }[] = [];
  #total = 0;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
    this.#samples.push({ at: clock(), total: 0 });
  }

  /** Count `bytes` moved just now. */
  add(bytes: number): void {
    this.#total += bytes;
    const at = this.#clock();
    this.#samples.push({ at, total: this.#total });
    // Keep one sample older than the window: the rate spans the whole window.
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second lately; 0 before anything moved. */
  rate(): number {
    const first = this.#samples[0]!;
    const span = this.#clock() - first.at;
    const moved = this.#total - first.total;
    return span >= MIN_SPAN_MS && moved > 0 ? moved / (span / 1000) : 0;
  }

  /** Seconds to move `remaining` bytes at the recent rate; null while the rate is unknown. */
  secondsLeft(remaining: number): number | null {
    if (remaining <= 0) return 0;
    const rate = this.rate();
    return rate > 0 ? remaining / rate : null;
  }
}

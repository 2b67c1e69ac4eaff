// One peer's warm-up as it goes: what of its share is in place, how it got there, how fast it
// moves now, and when to tell the listener (state changes at once, bytes at most every interval).
import type { WarmupProgress, WarmupState } from '../../shared/cache-progress.js';
import { RateMeter } from './rate-meter.js';
import type { PeerShare } from './peer-shares.js';

/** How often a peer's byte counts are reported while they move. */
export const PROGRESS_INTERVAL_MS = 250;

/** How each of a peer's entries got into its cache in this warm-up. */
export type EntrySource = 'pushed' | 'filled' | 'fetched';

/** The counters of one peer's warm-up, and its reports. */
export class PeerProgress {
  readonly #share: PeerShare;
  readonly #onChange: (progress: WarmupProgress) => void;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  #meter: RateMeter | null = null;
  #state: WarmupState = 'waiting';
  #doneBytes = 0;
  #doneEntries = 0;
  #inFlight = 0;
  #moved = { pushed: 0, filled: 0, fetched: 0 };
  /** Bytes interrupted pushes had left on the peer, not sent again. */
  resumedBytes = 0;
  /** What the cache held before this warm-up began. */
  readonly cachedAtStart: { entries: number; bytes: number };
  #error: string | null = null;
  #lastReport = -Infinity;

  constructor(share: PeerShare, cached: { entries: number; bytes: number }, onChange: (progress: WarmupProgress) => void, options: { clock?: () => number; intervalMs?: number } = {}) {
    this.#share = share;
    this.#onChange = onChange;
    this.#clock = options.clock ?? Date.now;
    this.#intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.cachedAtStart = cached;
    this.#doneBytes = cached.bytes;
    this.#doneEntries = cached.entries;
  }

  get state(): WarmupState {
    return this.#state;
  }

  /** Enter a state (told at once). */
  enter(state: WarmupState, error: string | null = null): void {
    // The rate counts from when bytes start to move: a fill's bytes arrive in one piece at its end.
    if (state === 'filling' || state === 'fetching' || state === 'pushing') this.#rate();
    this.#state = state;
    this.#error = error;
    this.#inFlight = 0;
    this.#report(true);
  }

  /** Bytes of the entry being pushed left for the peer. */
  moving(bytes: number): void {
    this.#inFlight += bytes;
    this.#rate().add(bytes);
    this.#report(false);
  }

  /** The peer kept this much of the entry from an interrupted push: in place, but not moved now. */
  resumed(bytes: number): void {
    this.#inFlight += bytes;
    this.resumedBytes += bytes;
  }

  /** An entry is in the peer's cache: `movedBytes` is what it cost to get it there (0 for a resumed push's kept part). */
  stored(size: number, source: EntrySource, movedBytes: number): void {
    this.#doneBytes += size;
    this.#doneEntries++;
    this.#inFlight = 0;
    this.#moved[source] += movedBytes;
    // A push counted its bytes as they left; a fill or fetch arrives in one piece.
    if (source !== 'pushed') this.#rate().add(movedBytes);
    this.#report(false);
  }

  /** The progress now. */
  snapshot(): WarmupProgress {
    const total = this.#share.bytes;
    const done = Math.min(total, this.#doneBytes + this.#inFlight);
    const settled = this.#state === 'done' || this.#state === 'failed' || this.#state === 'cancelled';
    return {
      peerId: this.#share.peer.id,
      peer: this.#share.peer.name,
      state: this.#state,
      bytesDone: done,
      bytesTotal: total,
      entriesDone: this.#doneEntries,
      entriesTotal: this.#share.entries.length,
      bytesPerSecond: settled ? 0 : Math.round(this.#meter?.rate() ?? 0),
      secondsLeft: this.#state === 'done' ? 0 : settled ? null : (this.#meter?.secondsLeft(total - done) ?? null),
      pushedBytes: this.#moved.pushed,
      filledBytes: this.#moved.filled,
      fetchedBytes: this.#moved.fetched,
      error: this.#error,
    };
  }

  #rate(): RateMeter {
    this.#meter ??= new RateMeter(this.#clock);
    return this.#meter;
  }

  #report(force: boolean): void {
    const now = this.#clock();
    if (!force && now - this.#lastReport < this.#intervalMs) return;
    this.#lastReport = now;
    this.#onChange(this.snapshot());
  }
}

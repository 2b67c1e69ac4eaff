// Coverage kept live while someone looks at it. Workers have no change feed, and a cache changes
// behind the coordinator's back (a load stores entries, eviction drops them, another warm-up
// pushes), so the watch asks every member once a second with `has` — an in-memory lookup on the
// worker and a few KiB on the link — and only while it has listeners. What this machine itself
// stores (a push the worker confirmed) is applied at once, without waiting for the next round.
import type { PeerCoverage } from '../../shared/cache-progress.js';
import { askPresence, coverageOf, shareHashes } from './coverage.js';
import type { PeerShare } from './peer-shares.js';

/** How often a watched coverage is asked again. */
const COVERAGE_POLL_MS = 1000;

type Listener = (coverage: PeerCoverage[]) => void;

/** Live coverage of a plan's shares: polls while subscribed, tells listeners only of changes. */
export class CoverageWatch {
  readonly #shares: readonly PeerShare[];
  readonly #intervalMs: number;
  readonly #listeners = new Set<Listener>();
  #coverage: PeerCoverage[] = [];
  #present = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | null = null;
  #asking: Promise<PeerCoverage[]> | null = null;

  constructor(shares: readonly PeerShare[], options: { intervalMs?: number } = {}) {
    this.#shares = shares;
    this.#intervalMs = options.intervalMs ?? COVERAGE_POLL_MS;
  }

  /** The last known coverage (empty before the first answer). */
  get current(): PeerCoverage[] {
    return this.#coverage;
  }

  /** Hear of every change (and of the coverage now, once known); polling runs while anyone listens. Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (this.#coverage.length > 0) listener(this.#coverage);
    if (this.#timer === null) this.#schedule(0);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
    };
  }

  /** Ask the members now (one round at a time: a caller during a round gets that round's answer). */
  refresh(): Promise<PeerCoverage[]> {
    this.#asking ??= (async () => {
      try {
        const presence = await askPresence(this.#shares.map((share) => share.peer), shareHashes(this.#shares));
        for (const [id, hashes] of presence.present) this.#present.set(id, hashes);
        this.#publish(coverageOf(this.#shares, presence, this.#coverage));
        return this.#coverage;
      } finally {
        this.#asking = null;
      }
    })();
    return this.#asking;
  }

  /** A peer confirmed it stored these entries (a push or fill this machine made): count them now. */
  notePresent(peerId: string, hashes: readonly string[]): void {
    const held = this.#present.get(peerId);
    if (!held) return; // never answered yet: the next round will tell
    for (const hash of hashes) held.add(hash);
    this.#publish(coverageOf(this.#shares, { present: this.#present, errors: new Map(), at: Date.now() }, this.#coverage));
  }

  #schedule(delayMs: number): void {
    const timer = setTimeout(() => {
      void this.refresh().catch(() => undefined).finally(() => {
        // Only the loop that is still current goes on (an unsubscribe and a new subscribe start another).
        if (this.#timer !== timer) return;
        this.#timer = null;
        if (this.#listeners.size > 0) this.#schedule(this.#intervalMs);
      });
    }, delayMs);
    timer.unref();
    this.#timer = timer;
  }

  #publish(next: PeerCoverage[]): void {
    const changed = next.length !== this.#coverage.length || next.some((coverage, index) => {
      const before = this.#coverage[index];
      return !before || before.cachedEntries !== coverage.cachedEntries || before.cachedBytes !== coverage.cachedBytes || before.error !== coverage.error;
    });
    this.#coverage = next;
    if (changed) for (const listener of this.#listeners) listener(next);
  }
}

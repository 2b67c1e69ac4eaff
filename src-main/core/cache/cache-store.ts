import { randomUUID } from 'node:crypto';
import { mkdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import type { ServerCacheEvent } from './cache-events.js';
import { loadIndex, saveIndex, type CacheIndexData } from './cache-index-file.js';
import { countEvent, emptyStats, type CacheStats } from './cache-stats.js';
import { admitEntry, commitEntryFile, listEntries, removeEntry, sweepLeftovers, verifyEntry, type EntryCheck, type VerifyResult } from './entry-files.js';

/** One cached tensor. */
export interface CacheEntry {
  hash: string;
  size: number;
  lastUsedMs: number;
  /** Ids of the registered models it belongs to. */
  models: string[];
  pinned: boolean;
}

/** The cache at a glance. */
export interface CacheSummary {
  dir: string;
  entries: number;
  usedBytes: number;
  capBytes: number;
  /** True when the cap is the default from the disk's size, not the user's. */
  capIsDefault: boolean;
  pinnedBytes: number;
  models: { id: string; name: string; entries: number; bytes: number }[];
  lifetime: CacheStats;
  /** Loads served since the worker started. */
  loads: number;
  /** The last finished load (the RPC connection that moved tensors), and the connection open now. */
  lastLoad: CacheStats | null;
  currentLoad: CacheStats | null;
}

export interface CacheStoreOptions {
  /** Cache root (llama.cpp's `LLAMA_CACHE`); entries live in `<root>/rpc/`. */
  root: string;
  clock?: () => number;
  /** Bytes of the disk holding the cache, to size the default cap (tests pass their own). */
  diskBytes?: number;
  /** Evict down to the cap on opening (a worker does; a look with `hearth cache ls` does not). */
  evict?: boolean;
}

/** Loads in flight at once are few; a pile of pins is a client that forgets to unpin. */
const MAX_PINS = 1000;

/** More than a probing connection ever sends (hello, device queries). */
const PROBE_BYTES = 1024 * 1024;

/** The default cap: a quarter of the disk, so a model cache never crowds out the rest of the machine. */
export const DEFAULT_CAP_SHARE = 0.25;

interface Pin {
  hashes: Set<string>;
  expiresAt: number;
}

/**
 * Hearth's view of a worker's tensor cache: the entries on disk are the truth; the store adds
 * last-use times, a size cap with least-recently-used eviction, pins for loads in flight,
 * per-model grouping and statistics.
 */
export class CacheStore {
  readonly root: string;
  readonly dir: string;
  readonly #clock: () => number;
  readonly #diskBytes: number;
  #index: CacheIndexData;
  readonly #sizes = new Map<string, number>();
  readonly #pins = new Map<string, Pin>();
  #lastLoad: CacheStats | null = null;
  #currentLoad: CacheStats | null = null;
  #saveTimer: NodeJS.Timeout | null = null;
  /** Changes to the entries run one at a time: an eviction never races a hit, a put or another eviction. */
  #queue: Promise<unknown> = Promise.resolve();
  #lastStamp = 0;
  #loads = 0;
  /** Entries the connected RPC client has loaded (hit or stored) since it connected. */
  readonly #inUse = new Set<string>();

  private constructor(options: CacheStoreOptions, index: CacheIndexData, diskBytes: number) {
    this.root = options.root;
    this.dir = path.join(options.root, 'rpc');
    this.#clock = options.clock ?? Date.now;
    this.#index = index;
    this.#diskBytes = diskBytes;
  }

  /** Open a cache root: remove what a crash left, then read the entries and the index. */
  static async open(options: CacheStoreOptions): Promise<CacheStore> {
    const dir = path.join(options.root, 'rpc');
    await mkdir(dir, { recursive: true });
    await sweepLeftovers(dir);
    let disk = options.diskBytes;
    if (disk === undefined) {
      const info = await statfs(dir);
      disk = info.blocks * info.bsize;
    }
    const store = new CacheStore(options, await loadIndex(options.root), disk);
    for (const entry of await listEntries(dir)) {
      store.#sizes.set(entry.hash, entry.size);
      store.#index.lastUsed[entry.hash] ??= entry.mtimeMs;
    }
    for (const hash of Object.keys(store.#index.lastUsed)) if (!store.#sizes.has(hash)) delete store.#index.lastUsed[hash];
    if (options.evict !== false) await store.evictToCap();
    return store;
  }

  /** The cap in bytes: the user's, or a quarter of the disk. */
  get capBytes(): number {
    return this.#index.capBytes ?? Math.floor(this.#diskBytes * DEFAULT_CAP_SHARE);
  }

  get usedBytes(): number {
    let total = 0;
    for (const size of this.#sizes.values()) total += size;
    return total;
  }

  /** Set the cap (null: back to the default) and evict down to it. */
  async setCap(capBytes: number | null): Promise<void> {
    if (capBytes !== null && (!Number.isSafeInteger(capBytes) || capBytes < 0)) throw new HearthError('bad-cap', `A cache cap must be a whole number of bytes, got ${capBytes}`);
    this.#index.capBytes = capBytes;
    await this.#serial(() => this.#evict());
    this.#scheduleSave();
  }

  has(hash: string): boolean {
    return this.#sizes.has(hash);
  }

  /** Every entry, most recently used first. */
  entries(): CacheEntry[] {
    const modelsOf = this.#modelsByHash();
    const pinned = this.#pinnedHashes();
    return [...this.#sizes]
      .map(([hash, size]) => ({ hash, size, lastUsedMs: this.#index.lastUsed[hash] ?? 0, models: modelsOf.get(hash) ?? [], pinned: pinned.has(hash) }))
      .sort((a, b) => b.lastUsedMs - a.lastUsedMs);
  }

  summary(): CacheSummary {
    const pinned = this.#pinnedHashes();
    const models = Object.entries(this.#index.models).map(([id, model]) => {
      const present = model.hashes.filter((hash) => this.#sizes.has(hash));
      return { id, name: model.name, entries: present.length, bytes: present.reduce((sum, hash) => sum + (this.#sizes.get(hash) ?? 0), 0) };
    });
    return {
      dir: this.dir,
      entries: this.#sizes.size,
      usedBytes: this.usedBytes,
      capBytes: this.capBytes,
      capIsDefault: this.#index.capBytes === null,
      pinnedBytes: [...pinned].reduce((sum, hash) => sum + (this.#sizes.get(hash) ?? 0), 0),
      models,
      lifetime: { ...this.#index.lifetime },
      loads: this.#loads,
      lastLoad: this.#lastLoad && { ...this.#lastLoad },
      currentLoad: this.#currentLoad && { ...this.#currentLoad },
    };
  }

  /** Admit an entry from a stream: verified against its hash and size, and its `digest` (bytes from another machine), before it becomes visible. */
  async put(hash: string, size: number, source: AsyncIterable<Uint8Array>, digest?: string): Promise<{ created: boolean }> {
    await this.checkRoom(hash, size, size);
    const result = await admitEntry(this.dir, hash, size, source, digest);
    await this.#added(hash, size);
    return result;
  }

  /**
   * Refuse up front what could never stay: an entry over the cap (free of pins) would only be
   * evicted again, and `writeBytes` more than the disk holds would fail half-way.
   */
  async checkRoom(hash: string, size: number, writeBytes: number): Promise<void> {
    if (this.has(hash)) return;
    const room = this.capBytes - this.summary().pinnedBytes;
    if (size > room) throw new HearthError('cache-full', `Entry ${hash} (${size} bytes) does not fit the cache's cap (${room} bytes free of pins): raise the cap or clear space.`);
    const free = await statfs(this.dir).then((info) => info.bavail * info.bsize);
    if (writeBytes > free) throw new HearthError('disk-full', `Entry ${hash} (${writeBytes} bytes still to write) does not fit on the disk (${free} bytes free).`);
  }

  /** Admit a finished upload's file, whose bytes the caller checked against `hash` and `check` (see `commitEntryFile`). */
  async admitFile(hash: string, file: string, check: EntryCheck): Promise<void> {
    await this.checkRoom(hash, check.size, 0);
    await commitEntryFile(this.dir, hash, file, check);
    await this.#added(hash, check.size);
  }

  async #added(hash: string, size: number): Promise<void> {
    await this.#serial(async () => {
      this.#sizes.set(hash, size);
      this.#touch(hash);
      await this.#evict(new Set([hash]));
    });
  }

  /** Check an entry's bytes against its sidecar (or its name); a damaged one is removed. */
  async verify(hash: string): Promise<VerifyResult> {
    const result = await verifyEntry(this.dir, hash);
    if (!result.ok && result.reason !== 'missing') await this.remove(hash);
    if (!result.ok && result.reason === 'missing') this.#forget(hash);
    return result;
  }

  /** Verify every entry (a scrub); damaged ones are removed. */
  async verifyAll(): Promise<{ checked: number; damaged: { hash: string; reason: string }[] }> {
    const damaged: { hash: string; reason: string }[] = [];
    const hashes = [...this.#sizes.keys()];
    for (const hash of hashes) {
      const result = await this.verify(hash);
      if (!result.ok) damaged.push({ hash, reason: result.reason });
    }
    return { checked: hashes.length, damaged };
  }

  async remove(hash: string): Promise<void> {
    await this.#serial(() => this.#remove(hash));
  }

  /** Whether a load holds the entry (a pin, or the connected client loaded it). */
  isHeld(hash: string): boolean {
    return this.#inUse.has(hash) || this.#pinnedHashes().has(hash);
  }

  async #remove(hash: string): Promise<void> {
    await removeEntry(this.dir, hash);
    this.#forget(hash);
  }

  /** Remove every entry not pinned by a load (or only a model's); returns what was freed. */
  async clear(modelId?: string): Promise<{ entries: number; bytes: number }> {
    let hashes: string[];
    if (modelId === undefined) hashes = [...this.#sizes.keys()];
    else {
      const model = Object.hasOwn(this.#index.models, modelId) ? this.#index.models[modelId] : undefined;
      if (!model) throw new HearthError('unknown-model', `No model "${modelId}" is registered with this cache.`);
      hashes = model.hashes.filter((hash) => this.#sizes.has(hash));
    }
    return this.#serial(async () => {
      let bytes = 0;
      let entries = 0;
      for (const hash of hashes) {
        if (this.isHeld(hash) || !this.#sizes.has(hash)) continue;
        bytes += this.#sizes.get(hash) ?? 0;
        entries++;
        await this.#remove(hash);
      }
      return { entries, bytes };
    });
  }

  /** Keep these entries through eviction while a load needs them (until unpinned or `ttlMs` passes). */
  pin(hashes: string[], ttlMs: number, id: string = randomUUID()): string {
    this.#pinnedHashes(); // drops expired pins before counting
    if (this.#pins.size >= MAX_PINS && !this.#pins.has(id)) throw new HearthError('too-many-pins', `The cache already holds ${MAX_PINS} pins: unpin finished loads first.`);
    this.#pins.set(id, { hashes: new Set(hashes), expiresAt: this.#clock() + ttlMs });
    return id;
  }

  unpin(id: string): boolean {
    return this.#pins.delete(id);
  }

  /** Record which entries a model consists of (its hash manifest), for per-model views and clearing. */
  registerModel(id: string, name: string, hashes: string[]): void {
    this.#index.models[id] = { name, hashes: [...new Set(hashes)] };
    this.#scheduleSave();
  }

  /** Apply an event of the RPC server: use times, new and dropped entries, statistics. */
  onServerEvent(event: ServerCacheEvent): Promise<void> {
    return this.#serial(() => this.#apply(event));
  }

  async #apply(event: ServerCacheEvent): Promise<void> {
    if (event.kind === 'client-open') {
      this.#currentLoad = emptyStats();
      this.#inUse.clear();
    }
    countEvent(this.#index.lifetime, event);
    if (this.#currentLoad) countEvent(this.#currentLoad, event);
    if (event.kind === 'client-close') {
      const load = this.#currentLoad;
      this.#currentLoad = null;
      // The client is gone: what it held may now go, if the cache is over its cap.
      this.#inUse.clear();
      await this.#evict();
      // llama-server opens several short probing connections before the one that loads tensors;
      // only a connection that moved tensors counts as a load (counted last: its effects are done).
      if (load && (load.hits + load.misses > 0 || load.bytesReceived > PROBE_BYTES)) {
        this.#lastLoad = load;
        this.#loads++;
      }
    }
    if (event.kind === 'drop') this.#forget(event.hash);
    // A hit also tells us of an entry written behind our back (the server only hits real files).
    if (event.kind === 'hit' || event.kind === 'store') {
      this.#sizes.set(event.hash, event.bytes);
      this.#touch(event.hash);
      this.#inUse.add(event.hash);
      await this.#evict();
    }
    this.#scheduleSave();
  }

  /** Delete least recently used entries, never pinned or in use by the connected client, until the cache fits its cap. */
  evictToCap(): Promise<string[]> {
    return this.#serial(() => this.#evict());
  }

  async #evict(keep: Set<string> = new Set()): Promise<string[]> {
    const evicted: string[] = [];
    const candidates = [...this.#sizes.keys()].sort((a, b) => (this.#index.lastUsed[a] ?? 0) - (this.#index.lastUsed[b] ?? 0));
    for (const hash of candidates) {
      if (this.usedBytes <= this.capBytes) break;
      if (keep.has(hash) || this.isHeld(hash)) continue;
      try {
        await this.#remove(hash);
        evicted.push(hash);
      } catch {
        // A file that cannot be deleted now (permissions, held open elsewhere) stays; try the next.
      }
    }
    return evicted;
  }

  /** Write the index now (the store also saves by itself shortly after changes). */
  async flush(): Promise<void> {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    await this.#serial(() => saveIndex(this.root, this.#index));
  }

  #serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(change, change);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #touch(hash: string): void {
    // Strictly increasing stamps: entries used within the same millisecond still have an order.
    this.#lastStamp = Math.max(this.#clock(), this.#lastStamp + 1);
    this.#index.lastUsed[hash] = this.#lastStamp;
  }

  #forget(hash: string): void {
    this.#sizes.delete(hash);
    delete this.#index.lastUsed[hash];
  }

  #pinnedHashes(): Set<string> {
    const now = this.#clock();
    const hashes = new Set<string>();
    for (const [id, pin] of this.#pins) {
      if (pin.expiresAt <= now) this.#pins.delete(id);
      else for (const hash of pin.hashes) hashes.add(hash);
    }
    return hashes;
  }

  #modelsByHash(): Map<string, string[]> {
    const map = new Map<string, string[]>();
    for (const [id, model] of Object.entries(this.#index.models)) {
      for (const hash of model.hashes) map.set(hash, [...(map.get(hash) ?? []), id]);
    }
    return map;
  }

  #scheduleSave(): void {
    if (this.#saveTimer) return;
    // Batch the many use-time updates of a load into one write a second later.
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      void this.#serial(() => saveIndex(this.root, this.#index)).catch(() => undefined);
    }, 1000);
    this.#saveTimer.unref();
  }
}

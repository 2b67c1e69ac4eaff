// Resumable uploads into the cache, after containerd's content store: an ingest names its hash,
// size and digest up front, keeps what arrives in a folder of its own (see ingest-files.ts),
// continues at the offset it reached, and becomes an entry only once every byte is there, hashes
// to its name and, over all of its bytes whatever the resumes, to its digest — through the cache's
// verified, atomic admission. A mismatch deletes it.
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { HearthError } from '../base/errors.js';
import type { CacheStore } from './cache-store.js';
import { EntryChecksums } from './entry-checksums.js';
import { finishDigest, startDigest } from './entry-digest.js';
import { inBatches } from './in-batches.js';
import { assertDigest, EntryRefusedError, isEntryName } from './entry-files.js';
import { createIngest, ingestDataPath, recoverIngests, removeIngest, writeIngestState, type IngestState } from './ingest-files.js';

/** An unfinished upload as clients see it: how far it got. */
export interface IngestInfo {
  hash: string;
  size: number;
  /** The digest the upload named (null: none). */
  digest: string | null;
  offset: number;
}

/** What one `write` achieved: the entry is in the cache, or the bytes stopped at `offset`. */
export type IngestOutcome = { done: true; created: boolean } | { done: false; offset: number };

/** A write that does not continue the ingest where it stands (wrong offset or size); nothing was written. */
export class IngestConflictError extends HearthError {
  /** Where the ingest stands: the offset the next write must start at. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super('ingest-conflict', message);
    this.name = 'IngestConflictError';
    this.offset = offset;
  }
}

/** Limits and clock of an ingest store (tests pass small ones). */
export interface IngestStoreOptions {
  cache: CacheStore;
  clock?: () => number;
  /** Unfinished uploads kept at once (default 64). */
  maxIngests?: number;
  /** An ingest no byte reached for this long is deleted (default 24 h). */
  expiryMs?: number;
  /** Bytes between durable checkpoints while receiving (default 64 MiB): at most this is sent again after a crash. */
  checkpointBytes?: number;
}

interface Ingest {
  /** The last durable checkpoint. */
  state: IngestState;
  /** Bytes written so far (the checkpoint's offset, or further while a write runs). */
  offset: number;
  /** Both checksums of those bytes. */
  checksums: EntryChecksums;
  /**
   * The running SHA-256 of those bytes when the upload named a digest, and its copy at the last
   * checkpoint (a failed write goes back to it); both null after a restart until `#resumeDigest`
   * has read the bytes again.
   */
  sha256: Hash | null;
  checkpointSha256: Hash | null;
  writer: { cancel(): void; finished: Promise<void> } | null;
}

const DEFAULT_MAX_INGESTS = 64;
const DEFAULT_EXPIRY_MS = 24 * 3600_000;
const DEFAULT_CHECKPOINT_BYTES = 64 * 1024 * 1024;
const REHASH_CHUNK = 1 << 20;

/** The unfinished uploads of one cache root (`<root>/ingests/`). */
export class IngestStore {
  readonly #cache: CacheStore;
  readonly #root: string;
  readonly #clock: () => number;
  readonly #maxIngests: number;
  readonly #expiryMs: number;
  readonly #checkpointBytes: number;
  readonly #ingests = new Map<string, Ingest>();

  private constructor(options: IngestStoreOptions) {
    this.#cache = options.cache;
    this.#root = options.cache.root;
    this.#clock = options.clock ?? Date.now;
    this.#maxIngests = options.maxIngests ?? DEFAULT_MAX_INGESTS;
    this.#expiryMs = options.expiryMs ?? DEFAULT_EXPIRY_MS;
    this.#checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
  }

  /** Open the ingests of the cache's root: expired and damaged ones are removed, the rest cut back to their checkpoints. */
  static async open(options: IngestStoreOptions): Promise<IngestStore> {
    const store = new IngestStore(options);
    for (const state of await recoverIngests(options.cache.root, store.#clock() - store.#expiryMs)) {
      store.#ingests.set(state.hash, { state, offset: state.offset, checksums: EntryChecksums.resume(state.fnv, state.crc), sha256: null, checkpointSha256: null, writer: null });
    }
    return store;
  }

  /** Where the upload of `hash` stands, if one is unfinished. */
  get(hash: string): IngestInfo | undefined {
    const ingest = this.#ingests.get(hash);
    return ingest && { hash, size: ingest.state.size, digest: ingest.state.digest, offset: ingest.offset };
  }

  /** Every unfinished upload. */
  list(): IngestInfo[] {
    return [...this.#ingests.keys()].sort().map((hash) => this.get(hash)!);
  }

  /**
   * Receive the bytes of entry `hash` (`size` in all, whose SHA-256 must be `digest` when given:
   * bytes from another machine) from `offset` on. `cancel` stops `source` (closes the request): a
   * later write to the same ingest takes over from one still running, whose connection is usually
   * already dead. Resolves once the source ends: with the entry admitted, or with the offset
   * reached when the source broke off. Throws an `IngestConflictError` (offset, size or digest do
   * not continue the ingest), an `EntryRefusedError` (the bytes are not the entry: the ingest is
   * deleted) or a `HearthError` (no room).
   */
  async write(hash: string, size: number, offset: number, source: AsyncIterable<Uint8Array>, cancel: () => void, digest?: string): Promise<IngestOutcome> {
    if (!isEntryName(hash)) throw new EntryRefusedError('bad-name', `"${hash}" is not a cache entry name (16 lowercase hex digits).`);
    if (!Number.isSafeInteger(size) || size < 0) throw new EntryRefusedError('bad-size', `Entry ${hash}: ${size} is not a byte count.`);
    let ingest = this.#ingests.get(hash);
    while (ingest?.writer) {
      ingest.writer.cancel();
      await ingest.writer.finished;
      ingest = this.#ingests.get(hash);
    }
    if (this.#cache.has(hash)) {
      if (ingest) await this.#drop(hash);
      return { done: true, created: false };
    }
    if (ingest && ingest.state.digest !== (digest ?? null)) {
      // An upload that names another digest is another claim about the same name: one who starts
      // over replaces it (the checks at the end decide which was right); a resume cannot continue it.
      if (offset !== 0) throw new IngestConflictError(`The upload of ${hash} was started for another digest (${ingest.state.digest ?? 'none'}): start again at 0 to replace it.`, 0);
      await this.#drop(hash);
      ingest = undefined;
    }
    if (ingest && ingest.state.size !== size) {
      throw new IngestConflictError(`The upload of ${hash} was started with a size of ${ingest.state.size} bytes, not ${size}: one of them is wrong. Delete it (DELETE /v1/cache/ingests/${hash}) to start over.`, ingest.offset);
    }
    const current = ingest?.offset ?? 0;
    if (offset !== current) {
      throw new IngestConflictError(`The upload of ${hash} stands at byte ${current}, not ${offset}: continue from ${current}.`, current);
    }

    let finish = (): void => undefined;
    const writer = { cancel, finished: new Promise<void>((resolve) => (finish = resolve)) };
    try {
      // Claimed before any await: a concurrent write of the same hash now waits for this one.
      ingest = ingest ?? (await this.#create(hash, size, digest ?? null, writer));
      ingest.writer = writer;
      return await this.#receive(ingest, source, cancel);
    } finally {
      if (ingest) ingest.writer = null;
      finish();
    }
  }

  /** Delete an unfinished upload (stopping a write in progress); false when there was none. */
  async remove(hash: string): Promise<boolean> {
    const ingest = this.#ingests.get(hash);
    if (!ingest) return false;
    if (ingest.writer) {
      ingest.writer.cancel();
      await ingest.writer.finished;
    }
    await this.#drop(hash);
    return true;
  }

  /** Stop every write in progress and wait until each has checkpointed what it received. */
  async close(): Promise<void> {
    const writers = [...this.#ingests.values()].flatMap((ingest) => (ingest.writer ? [ingest.writer] : []));
    for (const writer of writers) writer.cancel();
    await Promise.all(writers.map((writer) => writer.finished));
  }

  async #create(hash: string, size: number, digest: string | null, writer: Ingest['writer']): Promise<Ingest> {
    const now = this.#clock();
    const checksums = new EntryChecksums();
    const state: IngestState = { hash, size, digest, offset: 0, fnv: checksums.fnvHex(), crc: checksums.crc32c(), updatedMs: now };
    const sha256 = digest === null ? null : startDigest();
    const ingest: Ingest = { state, offset: 0, checksums, sha256, checkpointSha256: sha256?.copy() ?? null, writer };
    this.#ingests.set(hash, ingest);
    try {
      await this.#expire(now);
      const others = [...this.#ingests.values()].filter((other) => other !== ingest);
      if (others.length >= this.#maxIngests) {
        throw new HearthError('cache-full', `The worker already holds ${others.length} unfinished uploads (at most ${this.#maxIngests}): finish or delete some (DELETE /v1/cache/ingests/<hash>) first.`);
      }
      const pending = others.reduce((sum, other) => sum + other.state.size, 0);
      if (pending + size > this.#cache.capBytes) {
        throw new HearthError('cache-full', `Entry ${hash} (${size} bytes) and the unfinished uploads (${pending} bytes) would exceed the cache's cap (${this.#cache.capBytes} bytes): raise the cap, or finish or delete uploads first.`);
      }
      await this.#cache.checkRoom(hash, size, size);
      await createIngest(this.#root, state).catch(diskError);
      return ingest;
    } catch (error) {
      await this.#drop(hash);
      throw error;
    }
  }

  async #receive(ingest: Ingest, source: AsyncIterable<Uint8Array>, cancel: () => void): Promise<IngestOutcome> {
    const { hash, size } = ingest.state;
    const dataPath = ingestDataPath(this.#root, hash);
    const file = await open(dataPath, 'r+').catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') return diskError(error);
      // Its bytes were deleted behind our back (a cleaned-up folder): forget it, the client starts over.
      await this.#drop(hash);
      throw new IngestConflictError(`The bytes received so far for ${hash} are gone from the worker's disk: start again at 0.`, 0);
    });
    let complete: boolean;
    try {
      await this.#resumeDigest(ingest, file);
      const iterator = inBatches(source, { limit: size - ingest.offset });
      // One write in flight while the next run arrives: reading the socket never waits for the disk.
      // It moves `ingest.offset` on as soon as it is done, so a stalled upload's bytes show at once.
      let writing: Promise<void> | null = null;
      let unwritten = 0;
      const write = (run: Uint8Array): void => {
        unwritten = run.length;
        const done = writeAt(file, run, ingest.offset).then(() => {
          ingest.offset += run.length;
          unwritten = 0;
        });
        // A failure (a full disk) may come while the loop waits for the next run: `settle` reports it, never the process.
        done.catch(() => undefined);
        writing = done;
      };
      const settle = async (): Promise<void> => {
        if (!writing) return;
        const done = writing;
        writing = null;
        try {
          await done;
        } catch (error) {
          unwritten = 0;
          cancel();
          await this.#rewind(ingest, file);
          throw diskError(error);
        }
      };
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } catch {
          break; // the client went away: what arrived stays, checkpointed below
        }
        if (next.done) break;
        const run = next.value;
        if (ingest.offset + unwritten + run.length > size) {
          cancel();
          await settle().catch(() => undefined);
          await this.#drop(hash);
          throw new EntryRefusedError('too-long', `Entry ${hash}: received more than the ${size} bytes announced; the upload was deleted.`);
        }
        // Hashed ahead of the disk: a failed write rewinds both to the last checkpoint. Runs are never reused.
        ingest.checksums.update(run);
        ingest.sha256?.update(run);
        await settle();
        write(run);
        if (ingest.offset + unwritten - ingest.state.offset >= this.#checkpointBytes) {
          await settle();
          await this.#checkpoint(ingest, file);
        }
      }
      await settle();
      await this.#checkpoint(ingest, file);
      complete = ingest.offset === size;
    } finally {
      await file.close().catch(() => undefined);
    }
    if (!complete) return { done: false, offset: ingest.offset };

    const actual = ingest.checksums.fnvHex();
    if (actual !== hash) {
      await this.#drop(hash);
      throw new EntryRefusedError('hash-mismatch', `Entry ${hash}: the ${size} bytes received hash to ${actual}; they are not this entry, and the upload was deleted.`);
    }
    // Of a copy: a finished ingest refused below (no room) is committed by a retry, which checks again.
    const digest = ingest.state.digest === null ? null : finishDigest(ingest.sha256!.copy());
    if (digest !== null && digest !== ingest.state.digest) {
      await this.#drop(hash);
      assertDigest(hash, digest, ingest.state.digest!);
    }
    // A refusal here (the cap shrank meanwhile) keeps the finished ingest: a retry at offset `size` commits it.
    await this.#cache.admitFile(hash, dataPath, { crc32c: ingest.checksums.crc32c(), size });
    await this.#drop(hash);
    return { done: true, created: true };
  }

  /** Make the bytes so far durable, then record them: the checkpoint never names bytes a crash could lose. */
  async #checkpoint(ingest: Ingest, file: FileHandle): Promise<void> {
    await file.sync().catch(diskError);
    const state: IngestState = { ...ingest.state, offset: ingest.offset, fnv: ingest.checksums.fnvHex(), crc: ingest.checksums.crc32c(), updatedMs: this.#clock() };
    await writeIngestState(this.#root, state).catch(diskError);
    ingest.state = state;
    ingest.checkpointSha256 = ingest.sha256?.copy() ?? null;
  }

  /** Back to the last checkpoint after a failed write: its hashes no longer match the bytes on disk. */
  async #rewind(ingest: Ingest, file: FileHandle): Promise<void> {
    ingest.offset = ingest.state.offset;
    ingest.checksums = EntryChecksums.resume(ingest.state.fnv, ingest.state.crc);
    ingest.sha256 = ingest.checkpointSha256?.copy() ?? null;
    await file.truncate(ingest.offset).catch(() => undefined);
  }

  /**
   * After a restart an ingest's SHA-256 is gone (a checkpoint cannot hold it): read the bytes it
   * kept once to rebuild it, so the digest is still checked over every byte, not only the new ones.
   */
  async #resumeDigest(ingest: Ingest, file: FileHandle): Promise<void> {
    if (ingest.state.digest === null || ingest.sha256 !== null) return;
    const sha256 = startDigest();
    const buffer = Buffer.allocUnsafe(Math.min(REHASH_CHUNK, Math.max(1, ingest.offset)));
    for (let position = 0; position < ingest.offset;) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, ingest.offset - position), position);
      if (bytesRead === 0) {
        await this.#drop(ingest.state.hash);
        throw new IngestConflictError(`The bytes received so far for ${ingest.state.hash} are shorter on the worker's disk than its checkpoint says: start again at 0.`, 0);
      }
      sha256.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    ingest.sha256 = sha256;
    ingest.checkpointSha256 = sha256.copy();
  }

  async #expire(now: number): Promise<void> {
    for (const [hash, ingest] of this.#ingests) {
      if (!ingest.writer && ingest.state.updatedMs < now - this.#expiryMs) await this.#drop(hash);
    }
  }

  async #drop(hash: string): Promise<void> {
    this.#ingests.delete(hash);
    await removeIngest(this.#root, hash);
  }
}

async function writeAt(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** A full disk is something the user can fix: say so instead of a bare errno. */
function diskError(error: unknown): never {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') throw new HearthError('disk-full', `The cache's disk is full (${(error as Error).message}): free space or lower the cache's cap.`, { cause: error });
  throw error;
}

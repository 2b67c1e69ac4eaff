// The on-disk format of the tensor cache folder (`<root>/rpc/`) shared with Hearth's patched
// `ggml-rpc-server -c`: data files named by the FNV-1a 64 of their bytes (ggml/src/ggml-rpc/
// ggml-rpc.cpp `fnv_hash`), each with a `<hash>.check` sidecar, both written under
// `<hash>.tmp-*` names and renamed into place, sidecar first.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import { EntryChecksums } from './entry-checksums.js';
import { finishDigest, startDigest } from './entry-digest.js';
import { inBatches } from './in-batches.js';

/** What a sidecar records about its entry's bytes. */
export interface EntryCheck {
  crc32c: number;
  size: number;
}

/** Why an entry operation refused its input (`bad-name` from any of them, the rest from `admitEntry`). */
export type EntryRefusal = 'bad-name' | 'bad-size' | 'too-short' | 'too-long' | 'hash-mismatch' | 'digest-mismatch';

/** Input refused by an entry operation; nothing was left on disk. */
export class EntryRefusedError extends HearthError {
  readonly reason: EntryRefusal;

  constructor(reason: EntryRefusal, message: string) {
    super('cache-entry-refused', message);
    this.name = 'EntryRefusedError';
    this.reason = reason;
  }
}

/** What `admitEntry` did: `created` is false when a verified copy was already in place. */
export interface AdmitResult extends EntryCheck {
  hash: string;
  created: boolean;
}

/** The outcome of checking one entry against its sidecar, or against its name when it has none. */
export type VerifyResult = { ok: true; size: number } | { ok: false; reason: 'missing' | 'size' | 'checksum' | 'hash' | 'sidecar' };

/** One complete entry in the folder. */
export interface EntryInfo {
  hash: string;
  size: number;
  mtimeMs: number;
}

const ENTRY_NAME = /^[0-9a-f]{16}$/;
const CHECK_NAME = /^([0-9a-f]{16})\.check$/;
// Writers' temporary names, ours and the server's: `<hash>.tmp-<anything>`.
const TEMP_NAME = /^[0-9a-f]{16}\.tmp-/;
const CHECK_LINE = /^crc32c=([0-9a-f]{8}) size=(0|[1-9][0-9]*)\n$/;
const READ_CHUNK = 1 << 20;

/** Whether `name` is a cache entry's file name: exactly 16 lowercase hex digits. */
export function isEntryName(name: string): boolean {
  return ENTRY_NAME.test(name);
}

/** Path of an entry's data file. */
export function entryPath(dir: string, hash: string): string {
  return path.join(dir, hash);
}

/** Path of an entry's `.check` sidecar. */
export function checkPath(dir: string, hash: string): string {
  return path.join(dir, `${hash}.check`);
}

/** The sidecar's one line: `crc32c=<8 lowercase hex> size=<decimal bytes>\n`. */
export function formatCheck(check: EntryCheck): string {
  if (!Number.isInteger(check.crc32c) || check.crc32c < 0 || check.crc32c > 0xffffffff) throw new RangeError(`crc32c must be an unsigned 32-bit integer, got ${check.crc32c}`);
  if (!isByteCount(check.size)) throw new RangeError(`size must be a whole number of bytes, got ${check.size}`);
  return `crc32c=${check.crc32c.toString(16).padStart(8, '0')} size=${check.size}\n`;
}

/** Read a sidecar's text; anything but exactly the line `formatCheck` writes is an error. */
export function parseCheck(text: string): EntryCheck {
  const match = CHECK_LINE.exec(text);
  const size = match ? Number(match[2]) : NaN;
  if (!match || !isByteCount(size)) {
    throw new HearthError('bad-cache-sidecar', `Not a cache sidecar line (expected "crc32c=<8 hex> size=<bytes>"): ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { crc32c: Number.parseInt(match[1]!, 16), size };
}

/**
 * Stream `source` into the entry `hash` of `dir`, refusing bytes whose size, FNV-1a or (when
 * `digest` is given: bytes from another machine) SHA-256 differ (an `EntryRefusedError`; a source
 * that throws rethrows): either way nothing is left behind. If a verified copy is already in place
 * the bytes are still checked, then dropped, not rewritten.
 */
export async function admitEntry(dir: string, hash: string, size: number, source: AsyncIterable<Uint8Array>, digest?: string): Promise<AdmitResult> {
  assertEntryName(hash);
  if (!isByteCount(size)) throw new EntryRefusedError('bad-size', `Entry ${hash}: ${size} is not a byte count.`);
  await mkdir(dir, { recursive: true });
  const existing = await verifyEntry(dir, hash);
  const keep = existing.ok && existing.size === size;
  const temp = tempName(hash);
  const file = keep ? null : await open(path.join(dir, temp), 'wx');
  try {
    const check = await ingest(hash, size, source, file, digest);
    if (file) {
      await file.sync(); // the bytes must be on disk before a name points at them
      await file.close();
      await commitEntryFile(dir, hash, path.join(dir, temp), check);
    }
    return { hash, ...check, created: file !== null };
  } catch (error) {
    await file?.close().catch(() => undefined);
    if (file) {
      await rm(path.join(dir, temp), { force: true });
      // The sidecar may already be in place: without its data it must not stay.
      if (!(await exists(entryPath(dir, hash)))) await rm(checkPath(dir, hash), { force: true });
    }
    throw error;
  }
}

/**
 * Make `file` (elsewhere on the cache's disk, already synced, its bytes already checked against
 * `hash` and `check` by the caller: a finished resumable upload) the entry `hash` of `dir`, the
 * same way `admitEntry` does: sidecar first, then one rename. On failure the file stays where it was.
 */
export async function commitEntryFile(dir: string, hash: string, file: string, check: EntryCheck): Promise<void> {
  assertEntryName(hash);
  await mkdir(dir, { recursive: true });
  try {
    await writeCheck(dir, hash, check);
    await rename(file, entryPath(dir, hash));
    await syncDir(dir);
  } catch (error) {
    if (!(await exists(entryPath(dir, hash)))) await rm(checkPath(dir, hash), { force: true });
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/**
 * Check an entry: with a sidecar, its size and CRC-32C; without one, the FNV-1a of its bytes
 * against its name, then write the missing sidecar (as the patched server does).
 */
export async function verifyEntry(dir: string, hash: string): Promise<VerifyResult> {
  assertEntryName(hash);
  // Sidecar before data, like the server: a removal (data first) then reads as missing.
  let check: EntryCheck | 'bad' | null = null;
  try {
    check = parseCheck(await readFile(checkPath(dir, hash), 'utf8'));
  } catch (error) {
    if (!isNotFound(error)) check = 'bad';
  }
  let file: FileHandle;
  try {
    file = await open(entryPath(dir, hash), 'r');
  } catch (error) {
    if (isNotFound(error)) return { ok: false, reason: 'missing' };
    throw error;
  }
  if (check === 'bad') {
    await file.close();
    return { ok: false, reason: 'sidecar' };
  }
  try {
    const { size } = await file.stat();
    if (check && check.size !== size) return { ok: false, reason: 'size' };
    // Both checksums in one pass, at the speed of the JS CRC-32C alone: no need for a CRC-only path.
    const checksums = new EntryChecksums();
    await readAll(file, (bytes) => void checksums.update(bytes));
    if (check) return check.crc32c === checksums.crc32c() ? { ok: true, size } : { ok: false, reason: 'checksum' };
    if (checksums.fnvHex() !== hash) return { ok: false, reason: 'hash' };
    await writeCheck(dir, hash, { crc32c: checksums.crc32c(), size });
    return { ok: true, size };
  } finally {
    await file.close();
  }
}

/**
 * Remove an entry: data first, then sidecar. The server reads the sidecar then the data, so a
 * sidecar without data reads as a miss; data without a sidecar would instead be re-adopted (hashed
 * and given a new sidecar) mid-removal. A crash in between leaves a sidecar `sweepLeftovers` takes.
 * Resolves to whether the data was there.
 */
export async function removeEntry(dir: string, hash: string): Promise<boolean> {
  assertEntryName(hash);
  const existed = await rm(entryPath(dir, hash)).then(() => true, (error: unknown) => {
    if (isNotFound(error)) return false;
    throw error;
  });
  await rm(checkPath(dir, hash), { force: true });
  return existed;
}

/**
 * Remove what a crash can leave: `<hash>.tmp-*` files and sidecars without data. Returns the
 * names removed. Without `writerPid`, run it while no writer is active (before anything
 * starts): it would take a live writer's temporary file. With it, only the temporary files of
 * that dead server (`<hash>.tmp-<pid>-*`) are removed.
 */
export async function sweepLeftovers(dir: string, writerPid?: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(ignoreMissingDir);
  const files = new Set(entries.filter((entry) => entry.isFile()).map((entry) => entry.name));
  const removed: string[] = [];
  // With a writer's pid, only that (dead) writer's files go: others may be writing right now.
  const ownTemp = writerPid === undefined ? TEMP_NAME : new RegExp(`^[0-9a-f]{16}\\.tmp-${writerPid}-`);
  for (const name of files) {
    const orphanCheck = writerPid === undefined ? CHECK_NAME.exec(name) : null;
    if (ownTemp.test(name) || (orphanCheck && !files.has(orphanCheck[1]!))) {
      await rm(path.join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed.sort();
}

/** The complete entries (final data names only; temporary files and sidecars are not listed). */
export async function listEntries(dir: string): Promise<EntryInfo[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(ignoreMissingDir);
  const listed: EntryInfo[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !isEntryName(entry.name)) continue;
    try {
      const info = await stat(path.join(dir, entry.name));
      listed.push({ hash: entry.name, size: info.size, mtimeMs: info.mtimeMs });
    } catch (error) {
      if (!isNotFound(error)) throw error; // removed since readdir
    }
  }
  return listed.sort((a, b) => a.hash.localeCompare(b.hash));
}

// Hash the source (writing it to `file` unless null), stopping at the first byte past `size`.
async function ingest(hash: string, size: number, source: AsyncIterable<Uint8Array>, file: FileHandle | null, digest: string | undefined): Promise<EntryCheck> {
  const checksums = new EntryChecksums();
  const sha256 = digest === undefined ? null : startDigest();
  let received = 0;
  // One write in flight while the next run arrives: reading the source never waits for the disk.
  let writing: Promise<void> | null = null;
  try {
    for await (const run of inBatches(source, { limit: size })) {
      received += run.length;
      if (received > size) throw new EntryRefusedError('too-long', `Entry ${hash}: received more than the ${size} bytes announced.`);
      checksums.update(run);
      sha256?.update(run);
      await writing;
      // Runs are never reused, so this one may still be written while the next arrives; its failure
      // is rethrown by the next `await writing`, never left unhandled while the source is awaited.
      writing = file ? writeFully(file, run) : null;
      writing?.catch(() => undefined);
    }
    await writing;
  } finally {
    await writing?.catch(() => undefined); // nothing may still write when the caller closes or removes the file
  }
  if (received < size) throw new EntryRefusedError('too-short', `Entry ${hash}: received ${received} of the ${size} bytes announced.`);
  const actual = checksums.fnvHex();
  if (actual !== hash) throw new EntryRefusedError('hash-mismatch', `Entry ${hash}: the bytes received hash to ${actual}; they are not this entry.`);
  if (sha256 && digest !== undefined) assertDigest(hash, finishDigest(sha256), digest);
  return { crc32c: checksums.crc32c(), size };
}

/** Refuse bytes whose FNV-1a name matched but whose SHA-256 is not the one the coordinator's manifest holds: forged, or another tensor's. */
export function assertDigest(hash: string, actual: string, expected: string): void {
  if (actual === expected) return;
  throw new EntryRefusedError('digest-mismatch', `Entry ${hash}: the bytes received have the right FNV-1a name but their digest is ${actual}, not ${expected} as the coordinator's hash manifest says: they are forged or another tensor's, and were not admitted. Check the machine that sent them.`);
}

// Sidecar atomically: a temporary file, synced, renamed over any old one.
async function writeCheck(dir: string, hash: string, check: EntryCheck): Promise<void> {
  const temp = path.join(dir, `${tempName(hash)}.check`);
  const file = await open(temp, 'wx');
  try {
    await writeFully(file, Buffer.from(formatCheck(check), 'ascii'));
    await file.sync();
    await file.close();
    await rename(temp, checkPath(dir, hash));
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

async function writeFully(file: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

async function readAll(file: FileHandle, onBytes: (bytes: Uint8Array) => void): Promise<void> {
  // Two buffers so the next read runs while the last one is hashed.
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)] as const;
  let turn = 0;
  let pending = file.read(buffers[0], 0, READ_CHUNK, null);
  for (;;) {
    const { bytesRead, buffer } = await pending;
    if (bytesRead === 0) return;
    turn ^= 1;
    pending = file.read(buffers[turn]!, 0, READ_CHUNK, null);
    onBytes(buffer.subarray(0, bytesRead));
  }
}

// Makes the renames durable; not every platform can open a folder (Windows), and that is fine.
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

function assertEntryName(hash: string): void {
  if (!isEntryName(hash)) throw new EntryRefusedError('bad-name', `"${hash}" is not a cache entry name (16 lowercase hex digits).`);
}

function tempName(hash: string): string {
  return `${hash}.tmp-node-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function ignoreMissingDir(error: unknown): [] {
  if (isNotFound(error)) return [];
  throw error;
}

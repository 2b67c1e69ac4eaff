// The on-disk form of a resumable upload (an "ingest", as containerd's content store calls it):
// `<cache root>/ingests/<hash>/data` holds the bytes received so far, `state.json` the checkpoint
// they can continue from — the offset reached and the running FNV-1a and CRC-32C at that offset —
// so a resume never re-reads (JS FNV-1a runs at about 0.2 GB/s). The SHA-256 the bytes must match
// is named up front too; its running state cannot be saved (Node's hashes cannot be exported), so
// a worker that restarted re-reads what arrived once to continue it. The data is synced before a
// checkpoint names it, so a checkpoint never claims bytes a crash could lose; bytes past it are
// cut off when the ingest is opened again. Nothing here is ever under an entry's name.
import { mkdir, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/write-atomic.js';
import { isEntryDigest } from './entry-digest.js';
import { isEntryName } from './entry-files.js';

/** A checkpoint: the first `offset` bytes of `data` are durable and hash to `fnv` / `crc` so far. */
export interface IngestState {
  hash: string;
  /** The entry's announced size. */
  size: number;
  /** The SHA-256 its bytes must have (`sha256:<hex>`, from the coordinator's manifest), or null for an upload that named none. */
  digest: string | null;
  offset: number;
  /** Running FNV-1a 64 state (its digest so far, `EntryChecksums.fnvHex()`; `EntryChecksums.resume` continues it). */
  fnv: string;
  /** Running CRC-32C (`EntryChecksums.crc32c()`). */
  crc: number;
  /** Last time bytes arrived (ms since epoch): idle ingests expire. */
  updatedMs: number;
}

/** Where every ingest of a cache root lives. */
function ingestsDir(root: string): string {
  return path.join(root, 'ingests');
}

/** The folder of one ingest. */
function ingestDir(root: string, hash: string): string {
  return path.join(ingestsDir(root), hash);
}

/** The file holding an ingest's bytes. */
export function ingestDataPath(root: string, hash: string): string {
  return path.join(ingestDir(root, hash), 'data');
}

function statePath(root: string, hash: string): string {
  return path.join(ingestDir(root, hash), 'state.json');
}

/** Version 2 names the digest; a version 1 checkpoint (none) is removed, and its upload starts over. */
const STATE_VERSION = 2;

/** Write a checkpoint atomically and durably (temporary file, synced, renamed over the old one). */
export async function writeIngestState(root: string, state: IngestState): Promise<void> {
  await writeFileAtomic(statePath(root, state.hash), `${JSON.stringify({ version: STATE_VERSION, ...state })}\n`, { sync: true });
}

/** Make a fresh ingest folder: an empty data file, then its first checkpoint (offset 0). */
export async function createIngest(root: string, state: IngestState): Promise<void> {
  await mkdir(ingestDir(root, state.hash), { recursive: true });
  const file = await open(ingestDataPath(root, state.hash), 'w');
  await file.close();
  await writeIngestState(root, state);
}

/** Remove an ingest's folder and everything in it. */
export async function removeIngest(root: string, hash: string): Promise<void> {
  if (!isEntryName(hash)) return; // never a path built from anything but a hash
  await rm(ingestDir(root, hash), { recursive: true, force: true });
}

/**
 * Read every ingest back after a start: a folder whose checkpoint is missing, damaged, names
 * another hash, claims more bytes than its data holds, or is older than `expiredBeforeMs` is
 * removed; the data of the rest is cut back to its checkpoint. Returns the checkpoints kept.
 */
export async function recoverIngests(root: string, expiredBeforeMs: number): Promise<IngestState[]> {
  const dir = ingestsDir(root);
  await mkdir(dir, { recursive: true });
  const kept: IngestState[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const state = entry.isDirectory() && isEntryName(entry.name) ? await readState(root, entry.name) : undefined;
    const dataBytes = state ? await stat(ingestDataPath(root, state.hash)).then((info) => info.size, () => -1) : -1;
    if (!state || state.updatedMs < expiredBeforeMs || dataBytes < state.offset) {
      await rm(path.join(dir, entry.name), { recursive: true, force: true });
      continue;
    }
    // Bytes past the checkpoint were never hashed into it: drop them, the client sends them again.
    if (dataBytes > state.offset) await truncate(ingestDataPath(root, state.hash), state.offset);
    kept.push(state);
  }
  return kept;
}

async function readState(root: string, hash: string): Promise<IngestState | undefined> {
  try {
    const raw = JSON.parse(await readFile(statePath(root, hash), 'utf8')) as Record<string, unknown>;
    const { size, digest, offset, fnv, crc, updatedMs } = raw;
    const valid = raw.version === STATE_VERSION && raw.hash === hash && isCount(size) && isCount(offset) && offset <= size
      && (digest === null || (typeof digest === 'string' && isEntryDigest(digest)))
      && typeof fnv === 'string' && /^[0-9a-f]{16}$/.test(fnv) && isCount(crc) && crc <= 0xffffffff && isCount(updatedMs);
    return valid ? { hash, size, digest, offset, fnv, crc, updatedMs } : undefined;
  } catch {
    return undefined; // missing or torn: the ingest starts over
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

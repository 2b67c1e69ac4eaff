// Where manifests are kept (`<dataDir>/manifests/`, one JSON file per model path) and how they are
// read back: a file that is damaged, foreign or of another version reads as absent, never as a
// manifest. Each file carries a CRC-32C of its own contents, so a flipped digit is caught too.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Crc32c } from '../../cache/checksums.js';
import { isEntryDigest } from '../../cache/entry-digest.js';
import { HearthError } from '../../base/errors.js';
import { writeFileAtomic } from '../../base/write-atomic.js';
import type { HashManifest, ManifestEntry } from './hash-manifest.js';

const HEX16 = /^[0-9a-f]{16}$/;
const CRC = /^[0-9a-f]{8}$/;

/** The stored manifest's file for the model at `realPath` (its real path: links resolved). */
export function storedManifestPath(dataDir: string, realPath: string): string {
  const key = createHash('sha256').update(realPath).digest('hex').slice(0, 32);
  return path.join(dataDir, 'manifests', `${key}.json`);
}

/** The manifest stored at `file`, or undefined when there is none or it cannot be trusted. */
export async function readStoredManifest(file: string): Promise<HashManifest | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    // Missing or unreadable: either way it is made again (and a folder that cannot be written says so then).
    return undefined;
  }
  return parseStoredManifest(text);
}

/** Parse a stored manifest's text; undefined unless it is whole, of version 2 (with digests) and its checksum matches. */
function parseStoredManifest(text: string): HashManifest | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(raw) || raw.version !== 2 || !isRecord(raw.file) || !Array.isArray(raw.entries) || typeof raw.crc32c !== 'string' || !CRC.test(raw.crc32c)) return undefined;
  const { path: filePath, size, mtimeMs, ino } = raw.file;
  if (typeof filePath !== 'string' || !isCount(size) || typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs) || !isCount(ino) || !isCount(raw.threshold)) return undefined;
  const entries: ManifestEntry[] = [];
  for (const entry of raw.entries as unknown[]) {
    if (!isRecord(entry)) return undefined;
    const { tensor, offset, size: bytes, hash, digest, probe } = entry;
    if (typeof tensor !== 'string' || !isCount(offset) || !isCount(bytes) || typeof hash !== 'string' || !HEX16.test(hash) || typeof digest !== 'string' || !isEntryDigest(digest) || typeof probe !== 'string' || !HEX16.test(probe)) return undefined;
    entries.push({ tensor, offset, size: bytes, hash, digest, probe });
  }
  const manifest: HashManifest = { version: 2, file: { path: filePath, size, mtimeMs, ino }, threshold: raw.threshold, entries };
  return checksum(manifest) === raw.crc32c ? manifest : undefined;
}

/** Store `manifest` at `file` atomically: written to a temporary name, flushed, then renamed into place. */
export async function writeStoredManifest(file: string, manifest: HashManifest): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify({ ...canonical(manifest), crc32c: checksum(manifest) })}\n`, { sync: true });
  } catch (error) {
    throw new HearthError('manifest-write', `could not save the hash manifest of ${manifest.file.path} in ${path.dirname(file)} (${(error as Error).message}); check that Hearth's data folder is writable`, { cause: error });
  }
}

/** The manifest with its keys in one fixed order, so its JSON (and checksum) depends only on its values. */
function canonical(manifest: HashManifest): HashManifest {
  const { path: filePath, size, mtimeMs, ino } = manifest.file;
  return {
    version: manifest.version,
    file: { path: filePath, size, mtimeMs, ino },
    threshold: manifest.threshold,
    entries: manifest.entries.map(({ tensor, offset, size: bytes, hash, digest, probe }) => ({ tensor, offset, size: bytes, hash, digest, probe })),
  };
}

function checksum(manifest: HashManifest): string {
  return new Crc32c().update(Buffer.from(JSON.stringify(canonical(manifest)))).hex();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

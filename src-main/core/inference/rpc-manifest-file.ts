// The file that hands a model's precomputed tensor hashes to llama.cpp's RPC client (Hearth's
// patch 0003-rpc-client-precomputed-hashes): with HEARTH_RPC_MANIFEST naming it, llama-server
// sends these hashes instead of reading and hashing every cached tensor at each load.
//
// What the client does with it: for a set of a whole tensor whose name and size match an entry
// (any size: patch 0005 has it ask by hash for every tensor listed, not only those over 10 MiB), it computes the probe from the data (8 KiB read) and, if it matches, sends the
// entry's hash; the first entry it uses it also hashes in full and compares. It refuses the whole
// manifest (one stderr line, then hashes every tensor as upstream does) on an unreadable or
// malformed file, on two lines sharing a hash but not size and probe, on a probe mismatch, and
// on a failed full check. It prints `hearth-rpc-client manifest <path>: N tensors from the
// manifest, M hashed, refused: <reason|none>` when the first graph runs after loading.
// What it cannot see: a wrong hash on a line whose probe is right, other than the one checked in
// full. A hash that names nothing costs a resend (the worker names what it stores by its own
// hash); a hash that names another tensor's cache entry would load that tensor's bytes. So make
// each entry's hash and probe from the same read of that tensor, never pair results up later.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import { PROBE_BYTES } from '../gguf/manifest/hash-manifest.js';
import { writeFileAtomic } from '../base/write-atomic.js';

/** The first line of every manifest; the client refuses a file that does not start with it. */
export const RPC_MANIFEST_HEADER = 'hearth-rpc-manifest 1';

/** The probe covers this many bytes at each end of a tensor: the hash manifest's own probe. */
export const RPC_MANIFEST_PROBE_BYTES = PROBE_BYTES;

/** One tensor of the model file, as the patched client checks and uses it. */
export interface RpcManifestEntry {
  /** The tensor's name in the GGUF file (ggml_tensor->name). */
  tensor: string;
  /** Its size in bytes. */
  size: number;
  /** FNV-1a 64 of its bytes, 16 lowercase hex digits (the name llama.cpp's RPC cache gives them). */
  hash: string;
  /** FNV-1a 64 of its first 4096 bytes followed by its last 4096 bytes (one running hash), 16 lowercase hex digits. */
  probe: string;
}

const HEX64 = /^[0-9a-f]{16}$/;
// A tab or a line break would break the line format; NUL can never be in ggml_tensor->name.
const BAD_NAME_CHARACTER = /[\t\n\r\0]/;

/**
 * The manifest's text: the header, then `<tensor>\t<size>\t<hash>\t<probe>\n` per entry.
 * Throws a HearthError for anything the client would refuse: a bad name, size, hash or probe,
 * a tensor listed twice, or one hash given to tensors whose size or probe differ.
 */
export function formatRpcManifest(entries: readonly RpcManifestEntry[]): string {
  const names = new Set<string>();
  const byHash = new Map<string, RpcManifestEntry>();
  const lines = [RPC_MANIFEST_HEADER];
  for (const entry of entries) {
    const { tensor, size, hash, probe } = entry;
    if (typeof tensor !== 'string' || tensor === '' || BAD_NAME_CHARACTER.test(tensor)) {
      invalid(`the tensor name ${JSON.stringify(tensor)} is empty or holds a tab, a line break or NUL`);
    }
    if (!Number.isSafeInteger(size) || size <= 0) invalid(`the size of ${tensor} (${size}) is not a positive whole number of bytes`);
    if (typeof hash !== 'string' || !HEX64.test(hash)) invalid(`the hash of ${tensor} (${JSON.stringify(hash)}) is not 16 lowercase hex digits`);
    if (typeof probe !== 'string' || !HEX64.test(probe)) invalid(`the probe of ${tensor} (${JSON.stringify(probe)}) is not 16 lowercase hex digits`);
    if (names.has(tensor)) invalid(`the tensor ${tensor} is listed twice`);
    names.add(tensor);
    const same = byHash.get(hash);
    if (same && (same.size !== size || same.probe !== probe)) invalid(`${tensor} has the hash of ${same.tensor}, whose bytes differ`);
    byHash.set(hash, entry);
    lines.push(`${tensor}\t${size}\t${hash}\t${probe}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Write a manifest atomically: to a temporary file beside `filePath`, flushed to disk, then
 * renamed over it, so the client never reads half a file. The folder is made if missing.
 */
export async function writeRpcManifest(filePath: string, entries: readonly RpcManifestEntry[]): Promise<void> {
  const text = formatRpcManifest(entries);
  await mkdir(path.dirname(filePath), { recursive: true });
  await writeFileAtomic(filePath, text, { sync: true });
}

/** The environment that points llama-server's RPC client at the manifest in `filePath`. */
export function rpcManifestEnv(filePath: string): { HEARTH_RPC_MANIFEST: string } {
  return { HEARTH_RPC_MANIFEST: filePath };
}

/** What the patched client says it did with the manifest during a load. */
export interface RpcManifestUse {
  fromManifest: number;
  hashed: number;
  /** Why it refused the manifest, or null. */
  refused: string | null;
}

/** The client's summary line (`hearth-rpc-client manifest <path>: N tensors from the manifest, M hashed, refused: R`), or null for any other line. */
export function parseRpcManifestUse(line: string): RpcManifestUse | null {
  const match = /^hearth-rpc-client manifest .*: (\d+) tensors from the manifest, (\d+) hashed, refused: (.*)$/.exec(line.trim());
  if (!match) return null;
  return { fromManifest: Number(match[1]), hashed: Number(match[2]), refused: match[3] === 'none' ? null : match[3]! };
}

function invalid(what: string): never {
  throw new HearthError('rpc-manifest-invalid', `Cannot write the RPC hash manifest: ${what}.`);
}

// The shapes that cross the worker's control API, as decoders: the server checks what it is sent
// with them and a client checks what a peer answers. Each is tied to the type the code works with
// (`satisfies Decoder<...>`), so the wire and the code cannot drift apart unnoticed.
import { arrayOf, boolean, count, decoder, integer, nullable, number, object, oneOf, optional, text, type Decoded, type Decoder } from '../base/decode.js';
import type { CacheEntry, CacheSummary } from '../cache/cache-store.js';
import type { CacheStats } from '../cache/cache-stats.js';
import { isEntryDigest } from '../cache/entry-digest.js';
import { isEntryName } from '../cache/entry-files.js';
import type { PeerView } from '../peers/cluster-node.js';
import type { DeviceInfo } from '../../shared/devices.js';

/** More hashes than any model has tensors: a bigger list is a mistake or an attack. */
export const MAX_HASHES = 100_000;

/** A cache entry's name: the FNV-1a 64 of its bytes, as llama.cpp names it. */
export const entryHash = decoder<string>('an entry hash (16 lowercase hex digits)', (value) => typeof value === 'string' && isEntryName(value));
export const hashList = arrayOf(entryHash, { max: MAX_HASHES, expects: `an array of entry hashes (at most ${MAX_HASHES})` });

/** The SHA-256 an entry's bytes must have, from the coordinator's hash manifest: what is checked when they cross machines. */
export const entryDigest = decoder<string>('an entry digest (sha256: and 64 lowercase hex digits)', (value) => typeof value === 'string' && isEntryDigest(value));
/** An entry the coordinator wants a worker to bring in from elsewhere: its name, size and digest, all from the coordinator's manifest, never from whoever holds the bytes. */
export const wantedEntry = object({ hash: entryHash, size: count, digest: entryDigest });
export type WantedEntry = Decoded<typeof wantedEntry>;
export const wantedEntries = arrayOf(wantedEntry, { max: MAX_HASHES, expects: `an array of {"hash", "size", "digest"} (at most ${MAX_HASHES})` });

/** A cache cap: bytes, or null for the default (a quarter of the disk). */
export const cacheCap = nullable(integer({ min: 0, expects: 'a whole number of bytes' }));
/** Model folders as a client names them (the worker then checks each is an existing absolute folder). */
export const modelDirList = arrayOf(text({ max: 4096, expects: 'a folder path' }), { max: 256, expects: 'a list of absolute folder paths ([] for none)' });

/** A model id in a worker's cache: the model's content, as the coordinator names it. */
export const modelId = text({ max: 128, pattern: /^[\w.:-]+$/, expects: '1-128 letters, digits or ._:-' });

const bytes = count;
const name = text({ max: 512 });

export const deviceInfo = object({ name, description: text({ max: 512, allowEmpty: true }), totalBytes: bytes, freeBytes: bytes }) satisfies Decoder<DeviceInfo>;
const cacheStats = object({ hits: count, misses: count, bytesFromCache: bytes, bytesReceived: bytes, stores: count, drops: count }) satisfies Decoder<CacheStats>;
const modelSpace = object({ id: text({ max: 128 }), name: text({ max: 512, allowEmpty: true }), entries: count, bytes });

export const cacheSummary = object({
  dir: text(), entries: count, usedBytes: bytes, capBytes: bytes, capIsDefault: boolean, pinnedBytes: bytes,
  models: arrayOf(modelSpace), lifetime: cacheStats, loads: count, lastLoad: nullable(cacheStats), currentLoad: nullable(cacheStats),
}) satisfies Decoder<CacheSummary>;

export const cacheEntry = object({ hash: entryHash, size: bytes, lastUsedMs: number(), models: arrayOf(text({ max: 128 })), pinned: boolean }) satisfies Decoder<CacheEntry>;

export const workerStatus = object({
  state: oneOf('starting', 'serving', 'restarting', 'stopped'),
  endpoint: text({ max: 300 }),
  rpcProtocol: text({ max: 64 }),
  devices: arrayOf(deviceInfo, { max: 64 }),
  restarts: count,
  lastError: nullable(text({ max: 1 << 16, allowEmpty: true })),
});
export type WorkerStatusWire = Decoded<typeof workerStatus>;

/** An unfinished upload: how far it got, and the digest it was started for. */
export const ingestInfo = object({ hash: entryHash, size: bytes, digest: nullable(entryDigest), offset: bytes });
export type IngestInfo = Decoded<typeof ingestInfo>;

const warnings = arrayOf(text({ max: 1 << 16, allowEmpty: true }), { max: 10_000 });
/** What a fill from local model files did. */
export const fillAnswer = object({ filled: hashList, bytes, present: hashList, missing: hashList, warnings });
export type FillResult = Decoded<typeof fillAnswer>;
/** What a fetch from another member did. */
export const fetchAnswer = object({ fetched: hashList, bytes, present: hashList, missing: hashList, warnings });
export type FetchResult = Decoded<typeof fetchAnswer>;

export const workerSettings = object({ cacheDir: text(), cacheMaxBytes: bytes, cacheMaxIsDefault: boolean, modelDirs: modelDirList });
export type WorkerSettings = Decoded<typeof workerSettings>;

/** An entry arrived whole (201) or was there already (200). */
export const entryStored = object({ hash: entryHash, created: boolean });
/** An upload stopped short (202) or started elsewhere (409): where to continue. */
export const resumeAt = object({ offset: bytes });

const fingerprint = text({ max: 64 });
const address = text({ max: 300 });
const advert = object({
  id: text({ max: 128 }), name: text({ max: 256 }), version: text({ max: 64 }), release: text({ max: 64 }), rpcProtocol: text({ max: 64 }),
  devices: arrayOf(deviceInfo, { max: 64 }), cacheUsedBytes: bytes, cacheCapBytes: bytes, fingerprint, linkPort: integer({ min: 1, max: 65535 }),
});
export const peerView = object({
  advert, addresses: arrayOf(address, { max: 64 }), source: oneOf('mdns', 'manual'), compatible: boolean, reason: nullable(text({ max: 1 << 12 })),
  online: boolean, lastSeenMs: number(), member: boolean,
}) satisfies Decoder<PeerView>;

export const identity = object({ deviceId: text({ max: 128 }), deviceName: text({ max: 256 }), fingerprint });
export const pairingCode = object({ code: text({ max: 64 }), expiresAt: number() });
export const joined = object({ memberName: text({ max: 256 }), fingerprint });
export const revoked = object({ fingerprint, updated: arrayOf(text({ max: 256 })), missed: arrayOf(text({ max: 256 })) });

/** "host:port" of a peer's secure link, as a user types it. */
export const peerAddress = text({ max: 300, pattern: /^[\w.-]{1,253}:\d{1,5}$/, expects: '"host:port" (the peer\'s secure link port, 7436 by default)' });

/** What a worker says when it refuses: a sentence for people, and sometimes a code or where an upload stands. */
export const refusal = object({ error: optional(text({ max: 1 << 16, allowEmpty: true })), code: optional(text({ max: 64 })), reason: optional(text({ max: 64 })), offset: optional(bytes) });

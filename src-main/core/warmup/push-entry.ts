// Push one cache entry to a peer: the tensor's bytes read from the GGUF at its offset and
// streamed over the secure link with the worker's resumable PUT. An interrupted push resumes
// where the worker's ingest stands, so what arrived is never sent again.
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import { HearthError } from '../base/errors.js';
import { tryDecode } from '../base/decode.js';
import type { ManifestEntry } from '../gguf/manifest/hash-manifest.js';
import { ENTRY_DIGEST_HEADER } from '../worker-api/routes.js';
import { refusal, resumeAt } from '../worker-api/wire.js';
import { readAnswerJson } from '../worker-api/worker-client.js';
import { ingestOffset } from './cache-client.js';
import type { CachePeer } from './peer-shares.js';
import { throttle } from './throttle.js';

/** One entry to push. */
export interface PushRequest {
  peer: CachePeer;
  /** The GGUF file the manifest was made from. */
  file: string;
  entry: ManifestEntry;
  /** Pace of the stream (bytes per second); unlimited when left out. */
  maxBytesPerSecond?: number;
  signal?: AbortSignal;
  /** Called as body bytes leave for the peer. */
  onBytes?: (bytes: number) => void;
}

/** What a push took. */
export interface PushResult {
  /** Body bytes sent over the link (a refused attempt's included). */
  sentBytes: number;
  /** Bytes the worker already held from an interrupted push, not sent again (where the push that completed began). */
  resumedBytes: number;
}

const READ_CHUNK = 1024 * 1024;
// A 409 names where the ingest stands; more than a few in a row means someone else pushes it too.
const MAX_ATTEMPTS = 4;
/** Not an HTTP status: `putFrom`'s word for a kept-alive stream that was gone before the request got through. */
const STALE_STREAM = -1;

/** Push `entry` to the peer's cache; resolves once the worker verified and stored it. */
export async function pushEntry(request: PushRequest): Promise<PushResult> {
  const { peer, entry, signal } = request;
  let offset = await ingestOffset(peer, entry, signal);
  let sentBytes = 0;
  let restarted = false;
  let retriedStale = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const answer = await putFrom(request, offset, (bytes) => (sentBytes += bytes));
    if (answer.status === 200 || answer.status === 201) return { sentBytes, resumedBytes: offset };
    // 409: the upload stands elsewhere; 202: the worker got fewer bytes than sent (the link broke off). Both name where to go on.
    if (answer.status === 409 || answer.status === 202) {
      const at = tryDecode(resumeAt, answer.json)?.offset;
      if (at === undefined || at > entry.size) break;
      offset = at;
      continue;
    }
    if (answer.status === STALE_STREAM && !retriedStale) {
      retriedStale = true;
      offset = await ingestOffset(peer, entry, signal);
      continue;
    }
    if (answer.status === 422 && !restarted) {
      // A damaged earlier ingest is dropped by the worker: send the whole entry once more.
      restarted = true;
      offset = await ingestOffset(peer, entry, signal);
      continue;
    }
    throw pushRefused(request, answer.status, answer.json);
  }
  throw new HearthError('warm-conflict', `${peer.name} kept moving the resume point of tensor ${entry.tensor} (${entry.hash}): is another warm-up pushing to it? Try again once it has finished.`);
}

function pushRefused(request: PushRequest, status: number, json: unknown): HearthError {
  const { peer, entry, file } = request;
  const reason = tryDecode(refusal, json)?.error ?? `HTTP ${status}`;
  if (status === 422) return new HearthError('warm-mismatch', `${peer.name} refused tensor ${entry.tensor}: the bytes in ${file} do not match their hash (${reason}). Did the file change since it was hashed? Run hearth warm again.`);
  if (status === 507) return new HearthError('warm-cache-full', `${peer.name} has no room for tensor ${entry.tensor} (${reason}): raise its cache cap (hearth worker --cache-max) or free space there.`);
  return new HearthError('peer-refused', `${peer.name} refused tensor ${entry.tensor}: ${reason}`);
}

/** One resumable PUT of the entry's bytes from `offset` to the end. */
async function putFrom(request: PushRequest, offset: number, count: (bytes: number) => void): Promise<{ status: number; json: unknown }> {
  const { peer, entry, signal } = request;
  const req = peer.worker.entryRequest('PUT', entry.hash, {
    signal,
    headers: {
      'content-type': 'application/octet-stream',
      // With offset 0 this is also a plain PUT, which older workers take as it is.
      'content-length': String(entry.size - offset),
      'x-hearth-resumable': '1',
      'x-hearth-entry-size': String(entry.size),
      'x-hearth-offset': String(offset),
      // The worker admits the bytes only if they have this SHA-256 (this machine's manifest's), over every byte of every attempt.
      [ENTRY_DIGEST_HEADER]: entry.digest,
    },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  const body = async (): Promise<void> => {
    const onBytes = (bytes: number): void => {
      count(bytes);
      request.onBytes?.(bytes);
    };
    await sendRange(req, request.file, entry.offset + offset, entry.size - offset, { maxBytesPerSecond: request.maxBytesPerSecond, signal, onBytes });
  };
  // A worker may answer before the body is through (409, 422): the answer counts, not the upload.
  const upload = body().catch((error: unknown) => void req.destroy(error as Error));
  try {
    const res = await response;
    return { status: res.statusCode ?? 0, json: await readAnswerJson(res) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    if (error instanceof HearthError) throw error; // the file, not the link (sendRange)
    // A kept-alive stream the worker closed just as this request went out: the caller tries once more.
    if (req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') return { status: STALE_STREAM, json: null };
    throw new HearthError('peer-unreachable', `The push of tensor ${entry.tensor} to ${peer.name} broke off (${(error as Error).message}): is its worker still running? Run hearth warm again to continue where it stopped.`, { cause: error });
  } finally {
    req.destroy();
    await upload;
  }
}

/**
 * Write `length` bytes of `file` from `start` as the request's body, then end it. Two read buffers
 * take turns (the next read runs while the last chunk is written), and a buffer is read into again
 * only once its write is done: a pre-warm allocates nothing per chunk, where fresh 1 MiB buffers had
 * the garbage collector run a hundred times a warm-up.
 */
async function sendRange(req: http.ClientRequest, file: string, start: number, length: number, options: { maxBytesPerSecond?: number; signal?: AbortSignal; onBytes(bytes: number): void }): Promise<void> {
  const closed = new Promise<'closed'>((resolve) => req.once('close', () => resolve('closed')));
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new HearthError('warm-file-unreadable', `Cannot read ${file} (${error.code ?? error.message}): is the model still there, and readable by this user?`, { cause: error });
  });
  try {
    for await (const chunk of throttle(readRange(handle, file, start, length), options.maxBytesPerSecond, options.signal)) {
      options.onBytes(chunk.length);
      const written = new Promise<void>((resolve, reject) => req.write(chunk, (error) => (error ? reject(error) : resolve())));
      if ((await Promise.race([written, closed])) === 'closed') return;
    }
    req.end();
  } finally {
    await handle.close();
  }
}

/** The bytes [start, start + length) of `handle` in chunks read into two reused buffers: a chunk is valid until the next one is asked for. */
async function* readRange(handle: FileHandle, file: string, start: number, length: number): AsyncGenerator<Buffer> {
  const buffers = [Buffer.allocUnsafe(Math.min(READ_CHUNK, length)), Buffer.allocUnsafe(Math.min(READ_CHUNK, length))] as const;
  const end = start + length;
  let position = start;
  let turn = 0;
  const readNext = () => (position < end ? handle.read(buffers[turn]!, 0, Math.min(READ_CHUNK, end - position), position) : null);
  let pending = readNext();
  try {
    while (pending) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) throw new HearthError('warm-mismatch', `${file} ends before byte ${end}: it changed since it was hashed. Run hearth warm again.`);
      position += bytesRead;
      turn ^= 1;
      pending = readNext();
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // Stopped early (the worker answered first): the read ahead is dropped, its failure with it.
    pending?.catch(() => undefined);
  }
}


// The coordinator's calls to a member worker's cache routes, through the secure link: which
// entries it holds, and asking it to fill entries from its own disk or from another member.
// Workers of an older Hearth answer 404 to `fill`, `fetch` and `ingests`: that means "not
// supported" (the warm-up pushes instead), never an error.
import { HearthError } from '../base/errors.js';
import { answerJson, httpRequest, type HttpAnswer } from '../net/http-request.js';
import type { CachePeer } from './peer-shares.js';

/** What a worker moved into its cache for a `fill` or `fetch`. */
export interface CacheTransfer {
  /** Entries now in its cache. */
  done: string[];
  bytes: number;
  /** Entries it could not get. */
  missing: string[];
}

/** The entries of `hashes` the peer's cache holds now. */
export async function cacheHas(peer: CachePeer, hashes: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const response = await call(peer, 'POST', 'v1/cache/has', { hashes }, signal);
  if (!response.ok) throw refused(peer, 'v1/cache/has', response);
  const body = (answerJson(response) ?? {}) as { present?: unknown };
  if (!Array.isArray(body.present)) throw new HearthError('peer-protocol', `${peer.name} answered "which entries do you hold" without a list: is it a compatible Hearth version?`);
  return new Set(body.present.filter((hash): hash is string => typeof hash === 'string'));
}

/** Ask the peer to fill these entries from GGUF copies on its own disk; null when its worker cannot. */
export function askFill(peer: CachePeer, hashes: readonly string[], signal?: AbortSignal): Promise<CacheTransfer | null> {
  return transfer(peer, 'v1/cache/fill', { hashes }, 'filled', signal);
}

/** Ask the peer to pull these entries from another member (`source`) through its own link; null when its worker cannot. */
export function askFetch(peer: CachePeer, source: CachePeer, hashes: readonly string[], signal?: AbortSignal): Promise<CacheTransfer | null> {
  return transfer(peer, 'v1/cache/fetch', { peer: source.id, hashes }, 'fetched', signal);
}

/** How many bytes of an interrupted push of `hash` the peer kept (0 when none, or when its worker cannot resume). */
export async function ingestOffset(peer: CachePeer, hash: string, size: number, signal?: AbortSignal): Promise<number> {
  const response = await call(peer, 'GET', `v1/cache/ingests/${hash}`, undefined, signal);
  if (response.status === 404 || response.status === 405) return 0;
  if (!response.ok) throw refused(peer, `v1/cache/ingests/${hash}`, response);
  const body = (answerJson(response) ?? {}) as { offset?: unknown; size?: unknown };
  // An ingest of another size is not this entry's: start over rather than trust it.
  const offset = body.offset;
  return typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0 && offset <= size && body.size === size ? offset : 0;
}

async function transfer(peer: CachePeer, route: string, body: unknown, field: 'filled' | 'fetched', signal?: AbortSignal): Promise<CacheTransfer | null> {
  const response = await call(peer, 'POST', route, body, signal);
  if (response.status === 404 || response.status === 405) return null;
  if (!response.ok) throw refused(peer, route, response);
  const answer = (answerJson(response) ?? {}) as Record<string, unknown>;
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((hash): hash is string => typeof hash === 'string') : []);
  return { done: list(answer[field]), bytes: typeof answer.bytes === 'number' ? answer.bytes : 0, missing: list(answer.missing) };
}

async function call(peer: CachePeer, method: string, route: string, body: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
  try {
    return await httpRequest(new URL(route, peer.controlUrl), { method, json: body, signal });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new HearthError('peer-unreachable', `${peer.name} did not answer through the secure link (${(cause as Error).message}): is its worker running?`, { cause });
  }
}

function refused(peer: CachePeer, route: string, response: HttpAnswer): HearthError {
  const error = (answerJson(response) as { error?: unknown } | null)?.error;
  const message = error == null ? response.text : String(error);
  return new HearthError('peer-refused', `${peer.name} refused ${route} (HTTP ${response.status}): ${message || 'no reason given'}`);
}

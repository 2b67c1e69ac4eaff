// Telling each peer's worker about a load before its bytes move: which entries belong to the
// model (its per-model cache view) and pins on the ones this plan needs, so eviction cannot take
// them between a pre-warm and the load, or during the load.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import type { SplitPlan } from '../planner/plan-types.js';
import { peerShares, type CachePeer } from '../warmup/peer-shares.js';

/** How long a peer keeps an announced load's entries through eviction; the worker holds them itself once the load connects. */
const PIN_SECONDS = 3600;
/** A peer that keeps its link open but does not answer the announcement fails the load after this long, rather than hanging it. */
const ANNOUNCE_TIMEOUT_MS = 30_000;

/** A model's id in workers' caches: its content (the cached tensors' hashes), not its file name. */
export function cacheModelId(manifest: HashManifest): string {
  const digest = createHash('sha256');
  for (const entry of manifest.entries) digest.update(`${entry.hash}\n`);
  return digest.digest('hex').slice(0, 16);
}

/** Register the model and pin each peer's share on its worker: every peer and both requests at once (each is a round trip through a link). */
export async function announceLoad(plan: SplitPlan, manifest: HashManifest, peers: readonly CachePeer[]): Promise<void> {
  const id = cacheModelId(manifest);
  const name = path.basename(manifest.file.path);
  const bound = { timeoutMs: ANNOUNCE_TIMEOUT_MS };
  await Promise.all(peerShares(plan, manifest, peers).flatMap((share) => {
    const hashes = share.entries.map((entry) => entry.hash);
    return [
      share.peer.worker.call('registerModel', { id, name, hashes }, bound),
      share.peer.worker.call('pin', { hashes, ttlSeconds: PIN_SECONDS }, bound),
    ];
  }));
}

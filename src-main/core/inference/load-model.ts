// From a GGUF file to a model served across the cluster: check the file, plan the split over
// this machine's GPUs and the member peers, announce the load to each peer's worker (its model
// view and pins), hand llama.cpp's RPC client the precomputed hashes, and start llama-server.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { HearthError } from '../errors.js';
import { loadOrMakeManifest } from '../gguf/manifest/load-or-make-manifest.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import type { HashProgress } from '../gguf/manifest/hash-ranges.js';
import type { LlamaTools } from '../native/tools.js';
import { httpRequest } from '../net/http-request.js';
import { clusterDevices, type LocalDevice } from '../planner/cluster-devices.js';
import { readPlanModel } from '../planner/model-shape.js';
import { assertPlanFits, planSplit } from '../planner/plan-split.js';
import type { PlanModel, PlanOptions, SplitPlan } from '../planner/plan-types.js';
import { listDevices } from '../worker/devices.js';
import { peerShares, type CachePeer } from '../warmup/peer-shares.js';
import type { MemberLink } from './member-links.js';
import type { ModelSlot } from './model-slot.js';
import { rpcManifestEnv, writeRpcManifest } from './rpc-manifest-file.js';

/** How long a peer keeps an announced load's entries through eviction; the worker holds them itself once the load connects. */
const PIN_SECONDS = 3600;
/** A peer that keeps its link open but does not answer the announcement fails the load after this long, rather than hanging it. */
const ANNOUNCE_TIMEOUT_MS = 30_000;

/** What a plan needs to know about the cluster. */
export interface PlanRequest {
  /** The model file, or what `readPlanModel` read of it (to plan it again without reading it again). */
  model: string | PlanModel;
  tools: LlamaTools;
  members: readonly MemberLink[];
  options?: PlanOptions;
  /** This machine's devices; asked of ggml when left out. */
  localDevices?: readonly LocalDevice[];
}

/** Check the model and plan its split across this machine and the member peers (no loading). */
export async function planModel(request: PlanRequest): Promise<SplitPlan> {
  const model = typeof request.model === 'string' ? await readPlanModel(request.model) : request.model;
  const local = request.localDevices ?? (await listDevices(request.tools));
  return planSplit(model, clusterDevices(local, request.members), request.options);
}

/** A load to make: a plan that fits, and where to serve it. */
export interface LoadRequest {
  plan: SplitPlan;
  members: readonly MemberLink[];
  slot: ModelSlot;
  /** Hearth's data folder: hash manifests live there. */
  dataDir: string;
  /** Model id for the API (default: the file name). */
  modelId?: string;
  onHashing?: (progress: HashProgress) => void;
  /** The model's hash manifest when the caller has it already (else it is loaded or made). */
  manifest?: HashManifest;
  /** Abort to stop before llama-server starts (once it runs, unload the slot). */
  signal?: AbortSignal;
}

/** Announce the plan to its peers and load it, the RPC client given the precomputed hashes; refuses a plan that does not fit. */
export async function loadPlan(request: LoadRequest): Promise<HashManifest> {
  const { plan } = request;
  assertPlanFits(plan);
  const manifest = request.manifest ?? await loadOrMakeManifest({ model: plan.model.path, dataDir: request.dataDir, onProgress: request.onHashing, signal: request.signal });
  // One file per model content, rewritten atomically at each load: a bounded set, never stale.
  const manifestFile = path.join(request.dataDir, 'manifests', 'rpc', `${cacheModelId(manifest)}.tsv`);
  // Both before llama-server starts, neither needs the other.
  const written = writeRpcManifest(manifestFile, manifest.entries);
  written.catch(() => undefined); // awaited below, unless the announcement fails first
  await announceLoad(plan, manifest, request.members);
  await written;
  request.signal?.throwIfAborted();
  // The members behind --rpc: their links' bytes are the load's progress, and a failure names the one at fault.
  const peers = request.members.filter((member) => plan.rpc.includes(member.endpoint));
  await request.slot.load({ model: plan.model.path, modelId: request.modelId, args: plan.args, env: rpcManifestEnv(manifestFile), peers });
  return manifest;
}

/** A model's id in workers' caches: its content (the cached tensors' hashes), not its file name. */
function cacheModelId(manifest: HashManifest): string {
  const digest = createHash('sha256');
  for (const entry of manifest.entries) digest.update(`${entry.hash}\n`);
  return digest.digest('hex').slice(0, 16);
}

/** Tell each peer's worker which model its entries belong to (its per-model view) and pin the ones this plan needs; `hearth warm` does it too, so warmed entries are not evicted before the load. */
export async function announceLoad(plan: SplitPlan, manifest: HashManifest, members: readonly MemberLink[]): Promise<void> {
  const id = cacheModelId(manifest);
  const name = path.basename(manifest.file.path);
  // Every peer and both requests at once (neither needs the other): each is a round trip through a link.
  await Promise.all(peerShares(plan, manifest, members).flatMap((share) => {
    const hashes = share.entries.map((entry) => entry.hash);
    return [
      controlPost(share.peer, 'v1/models', { id, name, hashes }),
      controlPost(share.peer, 'v1/cache/pins', { hashes, ttlSeconds: PIN_SECONDS }),
    ];
  }));
}

async function controlPost(member: CachePeer, route: string, body: unknown): Promise<void> {
  const answer = await httpRequest(new URL(route, member.controlUrl), { json: body, timeoutMs: ANNOUNCE_TIMEOUT_MS }).catch((cause: unknown) => {
    throw new HearthError('peer-unreachable', `${member.name} did not answer through the secure link (${(cause as Error).message}): is its worker running?`, { cause });
  });
  if (!answer.ok) throw new HearthError('peer-refused', `${member.name} refused the announcement of this load (${route}): ${answer.text}`);
}

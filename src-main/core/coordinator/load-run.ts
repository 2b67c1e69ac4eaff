// A load of a plan, then serving it: the model's hashes (once per file), each peer's RPC endpoint
// through its link, the announcement and the RPC client's hash manifest (both at once), then
// llama-server with the plan's split, followed live (its progress, each peer's cache), and the
// API published once it serves. While it serves it heals: a lost peer or a crashed llama-server
// is noticed (loss-watch.ts), the model is planned again over what is left (heal-plan.ts) and
// loaded from the warm caches, a few times at most. The run owns what it opened: stopping it
// unloads the model, withdraws the API record and closes the API endpoint if it opened one.
import path from 'node:path';
import type { ApiAccess } from '../../shared/api-access.js';
import type { LoadCacheProgress } from '../../shared/cache-progress.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import { writeApiRecord } from '../inference/api-record.js';
import type { SlotStatus } from '../inference/model-slot.js';
import { parseRpcManifestUse, rpcManifestEnv, writeRpcManifest, type RpcManifestUse } from '../inference/rpc-manifest-file.js';
import type { LlamaTools } from '../native/tools.js';
import { llamaServerArgs } from '../planner/plan-split.js';
import { watchLoadCache } from '../warmup/load-cache-watch.js';
import { announceLoad, cacheModelId } from './announce.js';
import { openApiEndpoint, type ApiEndpoint, type ApiListen } from './api-endpoint.js';
import { healPlan, type HealContext } from './heal-plan.js';
import { watchForLoss, type Loss } from './loss-watch.js';
import type { ClusterMembers, Member } from './members.js';
import type { PeerLink } from './peer-links.js';
import type { Planned } from './planned.js';
import { Run } from './run.js';

/** A model being served. */
export interface Served {
  api: ApiAccess;
  /** The RPC client's word on the precomputed hashes (patch 0003); null when no tensor went over RPC. */
  hashes: RpcManifestUse | null;
  /** Each peer's cached tensors: from its own cache versus sent over the link, at the end of the load. */
  cache: LoadCacheProgress[];
}

/** What a load tells as it goes, and while it serves. */
export type LoadEvents = {
  /** Hashing the model's tensors (once per file): 0..1. */
  hashing: [number];
  /** The slot's every change while this run holds it: loading with progress, ready, failed (a crash after ready too), unloading. */
  status: [SlotStatus];
  /** Each peer's cache use so far. */
  cache: [LoadCacheProgress[]];
  /** Serving stopped (a peer or llama-server was lost): the model is being planned and loaded again. */
  healing: [Loss];
  /** Serving again, on this plan. */
  healed: [Planned, Served];
  /** A peer the served plan lost answers again: loading again would use it. */
  back: [Member];
  /** No heal is possible or allowed any more: the model stays down, with why. */
  'gave-up': [string];
};

/** A load: `result` resolves once it first serves; it heals after that until stopped. */
export interface LoadRun extends Run<LoadEvents, Served> {
  /** The plan served now (a heal replaces it). */
  readonly planned: Planned;
  /** Stop loading, or stop serving: what the run opened is closed. */
  stop(): Promise<void>;
}

/** What a load needs from its coordinator. */
export interface LoadContext {
  tools: LlamaTools;
  dataDir: string;
  links(planned: Planned): PeerLink[];
  manifest(modelPath: string, onHashing: (fraction: number) => void, signal: AbortSignal): Promise<HashManifest>;
  /** The members now (to notice a lost one, and one come back). */
  members(): ClusterMembers;
  heal: HealContext;
}

/** Where to serve: an endpoint the caller keeps (the app's), or where to open one for this load alone. */
export type LoadApi = ApiEndpoint | ApiListen;

/** At most this many heals in HEAL_WINDOW_MS: a peer that keeps failing is not chased for ever. */
const MAX_HEALS = 3;
const HEAL_WINDOW_MS = 10 * 60_000;
/** How often a lost peer is asked whether it is back. */
const BACK_CHECK_MS = 2_000;

/** Start loading `planned` (a plan that fits: the caller checked). */
export function startLoad(context: LoadContext, planned: Planned, api: LoadApi): LoadRun {
  const opened: { endpoint: ApiEndpoint | null; owned: boolean; withdraw: (() => Promise<void>) | null; unlisten: () => void } = { endpoint: null, owned: false, withdraw: null, unlisten: () => undefined };
  let current = planned;
  const run = new Run<LoadEvents, Served>(async (self, signal) => {
    const endpoint = 'slot' in api ? api : await openApiEndpoint(context.tools, api);
    Object.assign(opened, { endpoint, owned: endpoint !== api });
    const onStatus = (status: SlotStatus) => self.emit('status', status);
    endpoint.slot.on('status', onStatus);
    opened.unlisten = () => endpoint.slot.off('status', onStatus);
    const served = await loadOnce(context, self, endpoint, planned, signal);
    opened.withdraw = await writeApiRecord(context.dataDir, { pid: process.pid, baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId: served.api.modelId });
    return served;
  });
  run.result.then(() => void serve(), () => undefined);

  /** While it serves: heal each loss (a few times at most), and say when a lost peer is back. */
  async function serve(): Promise<void> {
    const endpoint = opened.endpoint!;
    const heals: number[] = [];
    const lostPeers = new Map<string, Member>();
    void watchForBack(() => lostPeers, (member) => {
      lostPeers.delete(member.id);
      run.emit('back', member);
    }, run.signal);
    while (!run.signal.aborted) {
      const loss = await watchForLoss({ slot: endpoint.slot, links: rpcLinks(current), members: context.members, signal: run.signal });
      if (!loss) return;
      const now = Date.now();
      while (heals.length > 0 && now - heals[0]! > HEAL_WINDOW_MS) heals.shift();
      if (heals.length >= MAX_HEALS) return void run.emit('gave-up', `${loss.reason}. Hearth loaded the model again ${MAX_HEALS} times in ${HEAL_WINDOW_MS / 60_000} minutes and stops trying: check the peers, then press Load (or run hearth load) again.`);
      heals.push(now);
      endpoint.slot.reloading(`reloading: ${loss.reason}`);
      run.emit('healing', loss);
      try {
        const next = await healPlan(context.heal, current, new Set(loss.lost));
        for (const id of loss.lost) {
          const member = current.members.find((candidate) => candidate.id === id);
          if (member && !next.members.some((kept) => kept.id === id && next.plan.rpcPeers.includes(id))) lostPeers.set(id, member);
        }
        const served = await loadOnce(context, run, endpoint, next, run.signal);
        current = next;
        run.emit('healed', next, served);
      } catch (error) {
        if (run.signal.aborted) return;
        await endpoint.slot.unload();
        return void run.emit('gave-up', `${loss.reason}; loading it again failed: ${(error as Error).message}`);
      }
    }
  }

  function rpcLinks(of: Planned): PeerLink[] {
    return context.links(of).filter((link) => of.plan.rpcPeers.includes(link.id));
  }

  /** Tell when a lost member is listed and answers again; ends with `signal`. */
  async function watchForBack(lost: () => Map<string, Member>, onBack: (member: Member) => void, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, BACK_CHECK_MS).unref());
      for (const member of lost().values()) {
        const listed = context.members().members.find((candidate) => candidate.id === member.id);
        if (listed && (await context.heal.answers(listed).catch(() => false)) && !signal.aborted) onBack(listed);
      }
    }
  }

  let stopping: Promise<void> | null = null;
  return Object.assign(run, {
    get planned() {
      return current;
    },
    stop: () => (stopping ??= (async () => {
      run.cancel();
      // Unloading also ends a llama-server still loading; the second one catches a load that slipped past the run's last check.
      await opened.endpoint?.slot.unload();
      await run.result.catch(() => undefined);
      await opened.endpoint?.slot.unload();
      opened.unlisten();
      await opened.withdraw?.();
      if (opened.owned) await opened.endpoint?.close();
    })()),
  });
}

/** One load of `planned` into the endpoint's slot, as far as serving; a stop (`signal`) ends it. */
async function loadOnce(context: LoadContext, run: Run<LoadEvents, Served>, endpoint: ApiEndpoint, planned: Planned, signal: AbortSignal): Promise<Served> {
  const { plan } = planned;
  const manifest = await context.manifest(plan.model.path, (fraction) => run.emit('hashing', fraction), signal);
  signal.throwIfAborted();
  const links = context.links(planned);
  const endpoints = new Map(await Promise.all(plan.rpcPeers.map(async (id) => [id, await links.find((link) => link.id === id)!.rpcEndpoint()] as const)));
  // One file per model content, rewritten atomically at each load: a bounded set, never stale.
  const manifestFile = path.join(context.dataDir, 'manifests', 'rpc', `${cacheModelId(manifest)}.tsv`);
  await Promise.all([writeRpcManifest(manifestFile, manifest.entries), announceLoad(plan, manifest, links)]);
  signal.throwIfAborted();
  const watch = watchLoadCache({ plan, members: links, onProgress: () => run.emit('cache', watch.current()) });
  let hashes: RpcManifestUse | null = null;
  let cache: LoadCacheProgress[];
  try {
    await endpoint.slot.load({
      model: plan.model.path,
      args: llamaServerArgs(plan, (id) => endpoints.get(id)!),
      // Progress while it loads, and the peer at fault (with its worker's last lines) when it fails.
      peers: links.filter((link) => endpoints.has(link.id)).map((link) => ({ name: link.name, endpoint: endpoints.get(link.id)!, rpcStats: () => link.rpcStats(), worker: link.worker })),
      env: rpcManifestEnv(manifestFile),
      onLine: (line) => void (hashes = parseRpcManifestUse(line) ?? hashes),
    });
  } finally {
    cache = await watch.stop();
  }
  // Stopped between its last check and llama-server starting: what started goes too.
  if (signal.aborted) throw signal.reason;
  const status = endpoint.slot.status;
  const modelId = status.state === 'ready' ? status.modelId : path.basename(plan.model.path);
  return { api: { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId }, hashes, cache };
}

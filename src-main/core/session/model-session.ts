// The open model and everything the UI does with it: its facts, its plan across the cluster and
// the user's choices, each peer's cache coverage (live while a model is open), a pre-warm, and a
// load served through the OpenAI gateway. One instance per app; every change is pushed as a
// `session` event (progress at most a few times a second).
import { EventEmitter } from 'node:events';
import type { LoadCacheProgress, ModelSession, PeerCoverage, PlanChoices, WarmupProgress, WarmupView } from '../api/contract.js';
import { HearthError, isHearthError } from '../base/errors.js';
import { planModelFrom } from '../planner/model-shape.js';
import type { GgufHeader } from '../gguf/gguf-header.js';
import { inspectGguf, type ModelFacts } from '../gguf/inspect-model.js';
import { loadOrMakeManifest } from '../gguf/manifest/load-or-make-manifest.js';
import { writeApiRecord } from '../inference/api-record.js';
import { announceLoad, loadPlan, planModel } from '../inference/load-model.js';
import type { MemberLinks } from '../inference/member-links.js';
import { ModelSlot, type SlotStatus } from '../inference/model-slot.js';
import { startOpenAiGateway, type OpenAiGateway } from '../inference/openai-gateway.js';
import type { LlamaTools } from '../native/tools.js';
import type { LocalDevice } from '../planner/cluster-devices.js';
import { assertPlanFits } from '../planner/plan-split.js';
import type { PlanOptions, SplitPlan } from '../planner/plan-types.js';
import { CoverageWatch } from '../warmup/coverage-watch.js';
import { watchLoadCache } from '../warmup/load-cache-watch.js';
import { peerShares, planGivesPeersCachedTensors, type PeerShare } from '../warmup/peer-shares.js';
import { warmUp } from '../warmup/warm-up.js';
import { ByteSamples } from './byte-samples.js';
import { SharedManifest } from './shared-manifest.js';
import { AUTO_CHOICES } from '../../shared/plan-choices.js';
import { emptySession, idleLoad } from './empty-session.js';
import { modelSummary, planView } from './plan-view.js';


/** At most this often a progress change is pushed. */
const PUSH_MS = 200;

export interface ModelSessionOptions {
  tools: LlamaTools;
  /** Hearth's data folder: model manifests and the API record live there. */
  dataDir: string;
  /** Links to the cluster's member peers now. */
  openLinks: () => Promise<MemberLinks>;
  /** This machine's devices (the worker has listed them). */
  localDevices: () => Promise<LocalDevice[]>;
  /** Where the OpenAI-compatible API listens once a model is loaded. */
  api: { host: string; port: number; apiKey?: string | undefined };
}

/** What a plan was made from, kept with it: a load must use the links its `--rpc` endpoints point at. */
interface Planned {
  plan: SplitPlan;
  links: MemberLinks;
}

export class ModelSessionService extends EventEmitter<{ session: [ModelSession] }> {
  readonly #options: ModelSessionOptions;
  readonly #slot: ModelSlot;
  #gateway: OpenAiGateway | null = null;
  #state: ModelSession = emptySession();
  /** The open model as read once: its facts and header, planned again from memory at every choice. */
  #gguf: { facts: ModelFacts; info: GgufHeader } | null = null;
  #planned: Planned | null = null;
  /** The plan being served (its links stay open while it is). */
  #served: Planned | null = null;
  /** The open model's hash manifest, shared by coverage, pre-warm and load, dropped with the model. */
  readonly #manifest: SharedManifest;
  #coverageWatch: { watch: CoverageWatch; stop: () => void } | null = null;
  #warming: AbortController | null = null;
  #loadAbort: AbortController | null = null;
  #withdrawApi: (() => Promise<void>) | null = null;
  /** Bumped by every open, re-plan and close: work for an older one drops its results. */
  #generation = 0;
  #pushTimer: NodeJS.Timeout | null = null;

  constructor(options: ModelSessionOptions) {
    super();
    this.#options = options;
    this.#slot = new ModelSlot({ tools: options.tools });
    this.#manifest = new SharedManifest(loadOrMakeManifest, options.dataDir);
    this.#slot.on('status', (status: SlotStatus) => this.#onSlotStatus(status));
  }

  get session(): ModelSession {
    return structuredClone(this.#state);
  }

  /** The slot the gateway serves (the chat goes through the gateway, like any other client). */
  get apiBaseUrl(): string | null {
    return this.#state.load.api?.baseUrl ?? null;
  }

  /** Read the model's facts and plan it; a file that is not a usable model changes nothing. */
  async open(modelPath: string): Promise<ModelSession> {
    this.#assertIdle('open another model');
    // A file that is not a usable GGUF is refused here; one the planner cannot plan opens, with the reason as its plan error.
    const gguf = await inspectGguf(modelPath);
    const generation = ++this.#generation;
    this.#dropPlan();
    this.#manifest.drop();
    this.#gguf = gguf;
    this.#state = { ...this.#state, model: modelSummary(gguf.facts), choices: structuredClone(AUTO_CHOICES), plan: null, planError: null, coverage: [], warmup: null };
    await this.#replan(generation);
    return this.session;
  }

  async close(): Promise<ModelSession> {
    this.#assertIdle('close the model');
    ++this.#generation;
    this.#dropPlan();
    this.#manifest.drop();
    this.#gguf = null;
    this.#state = { ...this.#state, model: null, choices: structuredClone(AUTO_CHOICES), plan: null, planError: null, coverage: [], warmup: null };
    this.#push(true);
    return this.session;
  }

  async choose(choices: PlanChoices): Promise<ModelSession> {
    if (!this.#state.model) throw new HearthError('no-model', 'Open a model first: drop a .gguf file on the window.');
    this.#assertIdle('change the split');
    const generation = ++this.#generation;
    this.#state = { ...this.#state, choices: structuredClone(choices) };
    await this.#replan(generation);
    return this.session;
  }

  /** Pre-warm every peer's share; resolves once it has begun (progress comes as events). */
  async startWarmup(maxBytesPerSecond?: number): Promise<ModelSession> {
    this.#assertIdle('pre-warm');
    const planned = this.#requirePlan('pre-warm');
    const abort = new AbortController();
    this.#warming = abort;
    const view: WarmupView = { state: 'hashing', hashing: 0, peers: [], samples: [], error: null };
    this.#state = { ...this.#state, warmup: view };
    this.#push(true);
    void this.#warm(planned, abort, view, maxBytesPerSecond);
    return this.session;
  }

  async cancelWarmup(): Promise<ModelSession> {
    this.#warming?.abort();
    return this.session;
  }

  /** Load the plan and serve it; resolves once the load has begun (progress comes as events). */
  async load(): Promise<ModelSession> {
    this.#assertIdle('load');
    const planned = this.#requirePlan('load');
    this.#gateway ??= await startOpenAiGateway({ slot: this.#slot, ...this.#options.api }).catch((cause: unknown) => {
      throw new HearthError('api-unavailable', `The OpenAI-compatible API cannot listen on ${this.#options.api.host}:${this.#options.api.port} (${messageOf(cause)}): stop what uses that port (another hearth load?), or start Hearth with --api-port N.`, { cause });
    });
    // A model served now goes first: one model is served at a time, and its links close with it.
    if (this.#served) await this.unload();
    const abort = new AbortController();
    this.#loadAbort = abort;
    this.#state = { ...this.#state, load: { ...idleLoad(), state: 'hashing', step: 'hashing tensors (once per model file)', fraction: 0 } };
    this.#push(true);
    void this.#runLoad(planned, abort);
    return this.session;
  }

  /** Stop a load in progress, or stop serving. */
  async unload(): Promise<ModelSession> {
    this.#loadAbort?.abort();
    await this.#slot.unload();
    await this.#withdrawApi?.();
    this.#withdrawApi = null;
    this.#releaseServed();
    this.#state = { ...this.#state, load: idleLoad() };
    this.#push(true);
    return this.session;
  }

  async stop(): Promise<void> {
    ++this.#generation;
    this.#warming?.abort();
    this.#dropPlan();
    this.#manifest.drop();
    await this.unload().catch(() => undefined);
    await this.#gateway?.close();
    this.#gateway = null;
    if (this.#pushTimer) clearTimeout(this.#pushTimer);
  }

  async #replan(generation: number): Promise<void> {
    const { facts, info } = this.#gguf!;
    const links = await this.#options.openLinks();
    try {
      const plan = await planModel({ model: planModelFrom(facts, info), tools: this.#options.tools, members: links.members, options: planOptions(this.#state.choices), localDevices: await this.#options.localDevices() });
      if (generation !== this.#generation) return void (await links.close());
      this.#dropPlan();
      this.#planned = { plan, links };
      this.#state = { ...this.#state, plan: planView(plan, links.skipped), planError: null, coverage: [] };
      this.#push(true);
      void this.#watchCoverage(this.#planned, generation);
    } catch (error) {
      await links.close();
      if (generation !== this.#generation) return;
      this.#dropPlan();
      this.#state = { ...this.#state, plan: null, planError: messageOf(error) };
      this.#push(true);
    }
  }

  /** Coverage needs each cached tensor's hash: made once per model file, then the peers are asked every second while the model is open. */
  async #watchCoverage(planned: Planned, generation: number): Promise<void> {
    const shares = await this.#shares(planned).catch(() => []);
    if (generation !== this.#generation || shares.length === 0) return;
    const watch = new CoverageWatch(shares);
    const stop = watch.subscribe((coverage: PeerCoverage[]) => {
      this.#state = { ...this.#state, coverage };
      this.#push();
    });
    this.#coverageWatch = { watch, stop };
  }

  async #shares(planned: Planned, onHashing?: (fraction: number) => void, signal?: AbortSignal): Promise<PeerShare[]> {
    if (!planGivesPeersCachedTensors(planned.plan)) return [];
    return peerShares(planned.plan, await this.#manifest.of(planned.plan.model.path, onHashing, signal), planned.links.members);
  }

  async #warm(planned: Planned, abort: AbortController, view: WarmupView, maxBytesPerSecond: number | undefined): Promise<void> {
    const samples = new ByteSamples();
    const peers = new Map<string, WarmupProgress>();
    const update = (change: Partial<WarmupView>, now = false): void => {
      Object.assign(view, change);
      this.#state = { ...this.#state, warmup: { ...view, peers: [...peers.values()], samples: samples.samples } };
      this.#push(now);
    };
    try {
      const shares = await this.#shares(planned, (hashing) => update({ hashing }), abort.signal);
      update({ state: 'warming', hashing: null }, true);
      if (shares.length === 0) return update({ state: 'done' }, true);
      const manifest = await this.#manifest.of(planned.plan.model.path);
      await announceLoad(planned.plan, manifest, planned.links.members);
      const reports = await warmUp({
        shares, manifest, members: planned.links.members, maxBytesPerSecond, signal: abort.signal,
        onProgress: (progress) => {
          peers.set(progress.peerId, progress);
          samples.add(movedBytes(peers.values()));
          update({});
        },
        onStored: (peerId, hashes) => this.#coverageWatch?.watch.notePresent(peerId, hashes),
      });
      for (const report of reports) peers.set(report.peerId, report);
      samples.add(movedBytes(peers.values()), true);
      const failed = reports.filter((report) => report.state === 'failed');
      if (abort.signal.aborted || reports.some((report) => report.state === 'cancelled')) update({ state: 'cancelled' }, true);
      else if (failed.length > 0) update({ state: 'failed', error: failed.map((report) => `${report.peer}: ${report.error}`).join('; ') }, true);
      else update({ state: 'done' }, true);
    } catch (error) {
      update(abort.signal.aborted ? { state: 'cancelled', hashing: null } : { state: 'failed', hashing: null, error: messageOf(error) }, true);
    } finally {
      if (this.#warming === abort) this.#warming = null;
      void this.#coverageWatch?.watch.refresh().catch(() => undefined);
    }
  }

  async #runLoad(planned: Planned, abort: AbortController): Promise<void> {
    const samples = new ByteSamples();
    let cache: LoadCacheProgress[] = [];
    const setLoad = (change: Partial<ModelSession['load']>, now = false): void => {
      this.#state = { ...this.#state, load: { ...this.#state.load, ...change, cache, samples: samples.samples } };
      this.#push(now);
    };
    try {
      await this.#manifest.of(planned.plan.model.path, (fraction) => setLoad({ fraction }), abort.signal);
      if (abort.signal.aborted) return;
      this.#served = planned;
      const watch = watchLoadCache({ plan: planned.plan, members: planned.links.members, onProgress: () => {
        cache = watch.current();
        samples.add(cache.reduce((sum, peer) => sum + peer.bytesTransferred, 0));
        setLoad({});
      } });
      try {
        await loadPlan({ plan: planned.plan, members: planned.links.members, slot: this.#slot, dataDir: this.#options.dataDir, manifest: await this.#manifest.of(planned.plan.model.path), signal: abort.signal });
      } finally {
        cache = await watch.stop();
        samples.add(cache.reduce((sum, peer) => sum + peer.bytesTransferred, 0), true);
      }
      // Stopped between its last check and llama-server starting: what started goes too.
      if (abort.signal.aborted) return void (await this.#slot.unload());
      const status = this.#slot.status;
      if (status.state !== 'ready' || !this.#gateway) return;
      const apiKey = this.#options.api.apiKey ?? null;
      this.#withdrawApi = await writeApiRecord(this.#options.dataDir, { pid: process.pid, baseUrl: this.#gateway.baseUrl, apiKey, modelId: status.modelId });
      setLoad({ state: 'ready', step: null, fraction: 1, api: { baseUrl: this.#gateway.baseUrl, apiKey, modelId: status.modelId } }, true);
    } catch (error) {
      if (abort.signal.aborted) return;
      const status = this.#slot.status;
      setLoad({ state: 'failed', step: null, fraction: null, error: messageOf(error), logTail: status.state === 'failed' ? status.logTail : [] }, true);
      this.#releaseServed();
    } finally {
      if (this.#loadAbort === abort) this.#loadAbort = null;
    }
  }

  #onSlotStatus(status: SlotStatus): void {
    const load = this.#state.load;
    if (status.state === 'loading' && load.state !== 'idle') {
      this.#state = { ...this.#state, load: { ...load, state: 'loading', step: status.progress.step, fraction: status.progress.fraction } };
      this.#push();
    } else if (status.state === 'unloading' && load.state === 'ready') {
      this.#state = { ...this.#state, load: { ...load, state: 'unloading', step: 'unloading' } };
      this.#push(true);
    } else if (status.state === 'failed' && load.state === 'ready') {
      // A crash after the load: say so, with llama-server's last lines.
      this.#state = { ...this.#state, load: { ...load, state: 'failed', api: null, error: `llama-server stopped: ${status.reason}. Press Load to start it again.`, logTail: status.logTail } };
      this.#push(true);
    }
  }

  #requirePlan(action: string): Planned {
    const planned = this.#planned;
    if (!this.#state.model || !planned) throw new HearthError('no-plan', `Nothing to ${action}: open a model first (drop a .gguf file on the window)${this.#state.planError ? `; its plan failed: ${this.#state.planError}` : ''}.`);
    assertPlanFits(planned.plan);
    return planned;
  }

  /** One long job at a time: a pre-warm and a load move the same entries over the same links. */
  #assertIdle(action: string): void {
    if (this.#warming) throw new HearthError('busy', `Cannot ${action} while a pre-warm runs: cancel it first (what arrived stays in each cache).`);
    if (this.#loadAbort) throw new HearthError('busy', `Cannot ${action} while a load runs: wait for it, or press Unload to stop it.`);
  }

  #dropPlan(): void {
    this.#coverageWatch?.stop();
    this.#coverageWatch = null;
    const planned = this.#planned;
    this.#planned = null;
    if (planned && planned !== this.#served) void planned.links.close();
  }

  #releaseServed(): void {
    const served = this.#served;
    this.#served = null;
    if (served && served !== this.#planned) void served.links.close();
  }

  /** Tell listeners; progress is coalesced to one push per PUSH_MS, state changes go at once. */
  #push(now = false): void {
    if (now) {
      if (this.#pushTimer) clearTimeout(this.#pushTimer);
      this.#pushTimer = null;
      this.emit('session', this.session);
      return;
    }
    this.#pushTimer ??= setTimeout(() => {
      this.#pushTimer = null;
      this.emit('session', this.session);
    }, PUSH_MS);
  }
}

function planOptions(choices: PlanChoices): PlanOptions {
  const options: PlanOptions = {};
  if (choices.contextLength !== null) options.contextLength = choices.contextLength;
  if (Object.keys(choices.shares).length > 0) options.shares = choices.shares;
  if (choices.exclude.length > 0) options.exclude = choices.exclude;
  return options;
}

function movedBytes(peers: Iterable<WarmupProgress>): number {
  let sum = 0;
  for (const peer of peers) sum += peer.pushedBytes + peer.filledBytes + peer.fetchedBytes;
  return sum;
}

function messageOf(error: unknown): string {
  if (isHearthError(error) || error instanceof Error) return error.message;
  return String(error);
}

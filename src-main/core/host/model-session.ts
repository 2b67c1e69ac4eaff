// The UI's view of the coordinator: the open model, its plan and the user's choices, each peer's
// cache coverage (live while a model is open), a pre-warm and a load, as one ModelSession that is
// pushed as a `session` event at every change (progress at most a few times a second). The work
// itself is the coordinator's (core/coordinator): this file only presents its runs.
import { EventEmitter } from 'node:events';
import type { KeepWarmView, ModelSession, PlanChoices, WarmupProgress, WarmupView } from '../api/contract.js';
import { AUTO_CHOICES } from '../../shared/plan-choices.js';
import { HearthError, isHearthError } from '../base/errors.js';
import { openApiEndpoint, type ApiEndpoint, type ApiListen } from '../coordinator/api-endpoint.js';
import { Coordinator } from '../coordinator/coordinator.js';
import { KeepWarm } from '../coordinator/keep-warm.js';
import type { LoadRun } from '../coordinator/load-run.js';
import type { MemberSource } from '../coordinator/members.js';
import type { Planned } from '../coordinator/planned.js';
import type { WarmRun } from '../coordinator/warm-run.js';
import { inspectGguf } from '../gguf/inspect-model.js';
import type { SlotStatus } from '../inference/model-slot.js';
import type { LlamaTools } from '../native/tools.js';
import type { LocalDevice } from '../planner/cluster-devices.js';
import { planModelFrom, readPlanModel } from '../planner/model-shape.js';
import { assertPlanFits } from '../planner/plan-split.js';
import type { PlanModel, PlanOptions } from '../planner/plan-types.js';
import type { CoverageWatch } from '../warmup/coverage-watch.js';
import { ByteSamples } from './byte-samples.js';
import { emptySession, idleLoad } from './empty-session.js';
import { modelSummary, planView } from './plan-view.js';

/** At most this often a progress change is pushed. */
const PUSH_MS = 200;

export interface ModelSessionOptions {
  tools: LlamaTools;
  /** Hearth's data folder: model manifests and the API record live there. */
  dataDir: string;
  /** The cluster's members now, and how to reach them. */
  members: MemberSource;
  /** This machine's devices (the worker has listed them). */
  localDevices: () => Promise<LocalDevice[]>;
  /** Where the OpenAI-compatible API listens once a model is loaded (it stays up after, answering 503 while nothing is loaded). */
  api: ApiListen;
}

export class ModelSessionService extends EventEmitter<{ session: [ModelSession]; keepWarm: [KeepWarmView] }> {
  readonly #options: ModelSessionOptions;
  readonly #coordinator: Coordinator;
  /** The members' caches kept warm for the models loaded lately (the user's setting turns it on). */
  readonly #keepWarm: KeepWarm;
  #endpoint: ApiEndpoint | null = null;
  #state: ModelSession = emptySession();
  /** The open model as the planner sees it, planned again from memory at every choice (null: it cannot be planned). */
  #model: { path: string; plan: PlanModel | null; planError: string | null } | null = null;
  #planned: Planned | null = null;
  #coverage: { watch: CoverageWatch; stop: () => void } | null = null;
  #warm: WarmRun | null = null;
  #load: LoadRun | null = null;
  /** Bumped by every open, re-plan and close: work for an older one drops its results. */
  #generation = 0;
  #pushTimer: NodeJS.Timeout | null = null;

  constructor(options: ModelSessionOptions) {
    super();
    this.#options = options;
    this.#coordinator = new Coordinator({ tools: options.tools, dataDir: options.dataDir, members: options.members, localDevices: options.localDevices });
    this.#keepWarm = new KeepWarm({ coordinator: this.#coordinator, dataDir: options.dataDir, readModel: readPlanModel, onMembersChange: (listener) => options.members.onChange(listener) });
    this.#keepWarm.on('change', (view) => this.emit('keepWarm', view));
  }

  get keepWarm(): KeepWarmView {
    return this.#keepWarm.view;
  }

  /** Turn keep-warm on or off (the Settings switch). */
  setKeepWarm(on: boolean): void {
    this.#keepWarm.setEnabled(on);
  }

  get session(): ModelSession {
    return structuredClone(this.#state);
  }

  /** The API's base URL while a model serves (the chat goes through the gateway, like any other client). */
  get apiBaseUrl(): string | null {
    return this.#state.load.api?.baseUrl ?? null;
  }

  /** Streams opened to members so far (re-planning opens none). */
  linkCounts() {
    return this.#coordinator.linkCounts();
  }

  /** Read the model's facts and plan it; a file that is not a usable model changes nothing. */
  async open(modelPath: string): Promise<ModelSession> {
    this.#coordinator.assertIdle('open another model');
    // A file that is not a usable GGUF is refused here; one the planner cannot plan opens, with the reason as its plan error.
    const { facts, info } = await inspectGguf(modelPath);
    let plan: PlanModel | null = null;
    let planError: string | null = null;
    try {
      plan = planModelFrom(facts, info);
    } catch (error) {
      planError = messageOf(error);
    }
    const generation = ++this.#generation;
    this.#dropPlan();
    this.#coordinator.forgetModel();
    this.#model = { path: facts.path, plan, planError };
    this.#state = { ...this.#state, model: modelSummary(facts), choices: structuredClone(AUTO_CHOICES), plan: null, planError: null, coverage: [], warmup: null };
    await this.#replan(generation);
    return this.session;
  }

  async close(): Promise<ModelSession> {
    this.#coordinator.assertIdle('close the model');
    ++this.#generation;
    this.#dropPlan();
    this.#coordinator.forgetModel();
    this.#model = null;
    this.#state = { ...this.#state, model: null, choices: structuredClone(AUTO_CHOICES), plan: null, planError: null, coverage: [], warmup: null };
    this.#push(true);
    return this.session;
  }

  async choose(choices: PlanChoices): Promise<ModelSession> {
    if (!this.#state.model) throw new HearthError('no-model', 'Open a model first: drop a .gguf file on the window.');
    this.#coordinator.assertIdle('change the split');
    const generation = ++this.#generation;
    this.#state = { ...this.#state, choices: structuredClone(choices) };
    await this.#replan(generation);
    return this.session;
  }

  /** Pre-warm every peer's share; resolves once it has begun (progress comes as events). */
  async startWarmup(maxBytesPerSecond?: number): Promise<ModelSession> {
    const run = this.#coordinator.warm(this.#requirePlan('pre-warm'), { maxBytesPerSecond });
    this.#warm = run;
    this.#presentWarm(run);
    return this.session;
  }

  async cancelWarmup(): Promise<ModelSession> {
    this.#warm?.cancel();
    return this.session;
  }

  /** Load the plan and serve it; resolves once the load has begun (progress comes as events). */
  async load(): Promise<ModelSession> {
    const planned = this.#requirePlan('load');
    this.#endpoint ??= await openApiEndpoint(this.#options.tools, this.#options.api);
    const run = this.#coordinator.load(planned, this.#endpoint);
    this.#load = run;
    this.#presentLoad(run);
    return this.session;
  }

  /** A peer the served model lost is back: plan the model again over every member, and load it so. */
  async moveBack(): Promise<ModelSession> {
    if (!this.#state.model) throw new HearthError('no-model', 'Open a model first: drop a .gguf file on the window.');
    this.#coordinator.assertIdle('move the model back');
    await this.#replan(++this.#generation);
    return this.load();
  }

  /** Stop a load in progress, or stop serving. */
  async unload(): Promise<ModelSession> {
    this.#load = null;
    await this.#coordinator.unload();
    this.#state = { ...this.#state, load: idleLoad() };
    this.#push(true);
    return this.session;
  }

  async stop(): Promise<void> {
    await this.#keepWarm.stop();
    ++this.#generation;
    this.#load = null;
    this.#dropPlan();
    await this.#coordinator.close();
    await this.#endpoint?.close();
    this.#endpoint = null;
    if (this.#pushTimer) clearTimeout(this.#pushTimer);
  }

  async #replan(generation: number): Promise<void> {
    const model = this.#model!;
    try {
      if (!model.plan) throw new HearthError('plan-failed', model.planError ?? 'This model cannot be planned.');
      const planned = await this.#coordinator.plan(model.plan, planOptions(this.#state.choices)).result;
      if (generation !== this.#generation) return;
      this.#dropPlan();
      this.#planned = planned;
      this.#state = { ...this.#state, plan: planView(planned.plan, planned.skipped), planError: null, coverage: [] };
      this.#push(true);
      void this.#watchCoverage(planned, generation);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#dropPlan();
      this.#state = { ...this.#state, plan: null, planError: messageOf(error) };
      this.#push(true);
    }
  }

  /** Coverage needs each cached tensor's hash (made once per model file); then the peers are asked every second while the model is open. */
  async #watchCoverage(planned: Planned, generation: number): Promise<void> {
    const watch = await this.#coordinator.coverage(planned).catch(() => null);
    if (generation !== this.#generation || !watch) return;
    const stop = watch.subscribe((coverage) => {
      this.#state = { ...this.#state, coverage };
      this.#push();
    });
    this.#coverage = { watch, stop };
  }

  #presentWarm(run: WarmRun): void {
    const samples = new ByteSamples();
    const peers = new Map<string, WarmupProgress>();
    const view: WarmupView = { state: 'hashing', hashing: 0, peers: [], samples: [], error: null };
    const update = (change: Partial<WarmupView>, now = false): void => {
      Object.assign(view, change);
      this.#state = { ...this.#state, warmup: { ...view, peers: [...peers.values()], samples: samples.samples } };
      this.#push(now);
    };
    update({}, true);
    run.on('hashing', (hashing) => update({ hashing }));
    run.on('warming', () => update({ state: 'warming', hashing: null }, true));
    run.on('progress', (progress) => {
      peers.set(progress.peerId, progress);
      samples.add(movedBytes(peers.values()));
      update({});
    });
    run.on('stored', (peerId, hashes) => this.#coverage?.watch.notePresent(peerId, hashes));
    run.result.then((report) => {
      for (const peer of report.peers) peers.set(peer.peerId, peer);
      samples.add(movedBytes(peers.values()), true);
      update({ state: report.state === 'nothing' ? 'done' : report.state, hashing: null, error: report.error }, true);
    }, (error: unknown) => update(run.cancelled ? { state: 'cancelled', hashing: null } : { state: 'failed', hashing: null, error: messageOf(error) }, true)).finally(() => {
      if (this.#warm === run) this.#warm = null;
      void this.#coverage?.watch.refresh().catch(() => undefined);
    });
  }

  #presentLoad(run: LoadRun): void {
    const samples = new ByteSamples();
    const current = () => this.#load === run;
    const setLoad = (change: Partial<ModelSession['load']>, now = false): void => {
      if (!current()) return;
      this.#state = { ...this.#state, load: { ...this.#state.load, ...change, samples: samples.samples } };
      this.#push(now);
    };
    let ready = false;
    setLoad({ ...idleLoad(), state: 'hashing', step: 'hashing tensors (once per model file)', fraction: 0 }, true);
    run.on('hashing', (fraction) => setLoad({ fraction }));
    run.on('cache', (cache) => {
      samples.add(cache.reduce((sum, peer) => sum + peer.bytesTransferred, 0));
      setLoad({ cache });
    });
    run.on('status', (status: SlotStatus) => {
      if (status.state === 'loading' && !ready) setLoad({ state: 'loading', step: status.progress.step, fraction: status.progress.fraction });
      else if (status.state === 'unloading' && ready) setLoad({ state: 'unloading', step: 'unloading' }, true);
      // A crash after the load: say so, with llama-server's last lines.
      else if (status.state === 'failed' && ready) setLoad({ state: 'failed', api: null, error: `llama-server stopped: ${status.reason}. Press Load to start it again.`, logTail: status.logTail }, true);
    });
    // While it serves: a lost peer, the model loaded again without it, a peer back, or the end of healing.
    run.on('healing', (loss) => setLoad({ state: 'loading', step: `reloading: ${loss.reason}`, fraction: null, api: null, peerBack: null, notice: `${clock()}: ${loss.reason}. Loading the model again over what is left of the cluster…` }, true));
    run.on('healed', (planned, served) => setLoad({ state: 'ready', step: null, fraction: 1, cache: served.cache, api: served.api, notice: `${this.#state.load.notice?.replace(/ Loading the model again over what is left of the cluster…$/, '') ?? ''} Serving again ${where(planned)} since ${clock()}.`.trim() }, true));
    run.on('back', (member) => setLoad({ peerBack: member.name }, true));
    run.on('gave-up', (reason) => setLoad({ state: 'failed', step: null, fraction: null, api: null, error: reason, peerBack: null }, true));
    run.result.then((served) => {
      ready = true;
      samples.add(served.cache.reduce((sum, peer) => sum + peer.bytesTransferred, 0), true);
      setLoad({ state: 'ready', step: null, fraction: 1, cache: served.cache, api: served.api }, true);
    }, (error: unknown) => {
      if (run.cancelled) return;
      const status = this.#endpoint?.slot.status;
      setLoad({ state: 'failed', step: null, fraction: null, error: messageOf(error), logTail: status?.state === 'failed' ? status.logTail : [] }, true);
    });
  }

  #requirePlan(action: string): Planned {
    const planned = this.#planned;
    if (!this.#state.model || !planned) throw new HearthError('no-plan', `Nothing to ${action}: open a model first (drop a .gguf file on the window)${this.#state.planError ? `; its plan failed: ${this.#state.planError}` : ''}.`);
    this.#coordinator.assertIdle(action);
    assertPlanFits(planned.plan);
    return planned;
  }

  #dropPlan(): void {
    this.#coverage?.stop();
    this.#coverage = null;
    this.#planned = null;
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

/** "on worker-a and this machine", "on this machine alone". */
function where({ plan, members }: Planned): string {
  const peers = plan.rpcPeers.map((id) => members.find((member) => member.id === id)?.name ?? id);
  return peers.length > 0 ? `on ${peers.join(', ')} and this machine` : 'on this machine alone';
}

/** The time of day, for notices. */
function clock(): string {
  return new Date().toLocaleTimeString();
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

// The coordinator: plans a model over this machine and the cluster's members, warms their caches
// and loads it, for the CLI (one per command) and the UI (one per app) alike. Plans name peers by
// id; the links to them are the coordinator's, opened when something is first asked of a peer and
// kept for every later plan, warm-up and load. One warm-up or load runs at a time: they move the
// same entries over the same links. A background warm-up (keep-warm) gives way to the user's.
import { EventEmitter } from 'node:events';
import { HearthError } from '../base/errors.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import { loadOrMakeManifest } from '../gguf/manifest/load-or-make-manifest.js';
import type { LlamaTools } from '../native/tools.js';
import { listDevices } from '../native/devices.js';
import { clusterDevices, type LocalDevice } from '../planner/cluster-devices.js';
import { assertPlanFits, planSplit } from '../planner/plan-split.js';
import type { PlanModel, PlanOptions } from '../planner/plan-types.js';
import { CoverageWatch } from '../warmup/coverage-watch.js';
import { peerShares, planGivesPeersCachedTensors, type PeerShare } from '../warmup/peer-shares.js';
import type { HealContext } from './heal-plan.js';
import { startLoad, type LoadApi, type LoadRun, type Served } from './load-run.js';
import type { MemberSource } from './members.js';
import { PeerLinks, type LinkCounts, type PeerLink } from './peer-links.js';
import type { Planned } from './planned.js';
import { noteRecentModel } from './recent-models.js';
import { Run } from './run.js';
import { SharedManifest } from './shared-manifest.js';
import { startWarm, type WarmRun } from './warm-run.js';

export interface CoordinatorOptions {
  tools: LlamaTools;
  /** Hearth's data folder: model manifests and the API record live there. */
  dataDir: string;
  members: MemberSource;
  /** This machine's devices (a running worker knows them); asked of ggml when left out. */
  localDevices?: () => Promise<readonly LocalDevice[]>;
}

/** A heal asks each remaining member whether it still answers, this long at most: a peer whose link just broke may still be listed. */
const HEAL_PROBE_MS = 3_000;

/** A plan is quick (the members are known, the model read): its run has no events. */
export type PlanRun = Run<Record<never, never>, Planned>;

/** What the coordinator tells: a load now serves; nothing runs any more (background work may go on). */
export type CoordinatorEvents = {
  loaded: [Planned, Served];
  idle: [];
};

type Busy = { what: 'pre-warm' | 'load'; run: WarmRun | LoadRun } | { what: 'keep-warm'; run: WarmRun };

export class Coordinator extends EventEmitter<CoordinatorEvents> {
  readonly #options: CoordinatorOptions;
  readonly #links: PeerLinks;
  readonly #manifest: SharedManifest;
  #busy: Busy | null = null;
  #served: LoadRun | null = null;

  constructor(options: CoordinatorOptions) {
    super();
    this.#options = options;
    this.#links = new PeerLinks(options.members.dial);
    this.#manifest = new SharedManifest(loadOrMakeManifest, options.dataDir);
  }

  /** Plan `model` over this machine and the members now, or only those of them in `among` (loads nothing, opens no link). */
  plan(model: PlanModel, options: PlanOptions = {}, among?: readonly string[]): PlanRun {
    return new Run(async () => {
      const now = this.#options.members.current();
      const members = among ? now.members.filter((member) => among.includes(member.id)) : now.members;
      const local = await (this.#options.localDevices?.() ?? listDevices(this.#options.tools));
      return { plan: planSplit(model, clusterDevices(local, members), options), model, options, members, skipped: now.skipped };
    });
  }

  /** Live cache coverage of each peer's share (hashing the model first, once per file); null when the plan gives no peer a cached tensor. */
  async coverage(planned: Planned, options: { onHashing?: (fraction: number) => void; signal?: AbortSignal } = {}): Promise<CoverageWatch | null> {
    const shares = await this.#shares(planned, options.onHashing, options.signal);
    return shares.shares.length > 0 ? new CoverageWatch(shares.shares) : null;
  }

  /** Pre-warm every peer's share of a plan that fits; `background` (keep-warm) runs only when nothing else does, and gives way to the user's work. */
  warm(planned: Planned, options: { maxBytesPerSecond?: number; background?: boolean } = {}): WarmRun {
    if (options.background && this.#busy) throw new HearthError('busy', `Keep-warm waits: a ${this.#busy.what} runs.`);
    this.assertIdle('pre-warm');
    assertPlanFits(planned.plan);
    const giveWay = this.#preempt();
    const run = startWarm({
      links: (of) => this.#linksOf(of),
      shares: async (of, onHashing, signal) => {
        await giveWay;
        return this.#shares(of, onHashing, signal);
      },
    }, planned, options);
    return this.#hold(options.background ? 'keep-warm' : 'pre-warm', run);
  }

  /** Stop a background warm-up, if one runs (what it moved stays). */
  cancelBackground(): void {
    if (this.#busy?.what === 'keep-warm') this.#busy.run.cancel();
  }

  /** Whether a pre-warm or a load of the user's runs now (keep-warm does not count). */
  get busy(): boolean {
    return this.#busy !== null && this.#busy.what !== 'keep-warm';
  }

  /** Load a plan that fits and serve it at `api`; a model served now is stopped first (one is served at a time). */
  load(planned: Planned, api: LoadApi): LoadRun {
    this.assertIdle('load');
    assertPlanFits(planned.plan);
    const previous = this.#served;
    const giveWay = this.#preempt();
    let first = true;
    const run = startLoad({
      tools: this.#options.tools,
      dataDir: this.#options.dataDir,
      links: (of) => this.#linksOf(of),
      manifest: async (modelPath, onHashing, signal) => {
        if (first) {
          first = false;
          await giveWay;
          await previous?.stop();
        }
        return this.#manifest.of(modelPath, onHashing, signal);
      },
      members: () => this.#options.members.current(),
      heal: this.#healContext(),
    }, planned, api);
    this.#served = run;
    run.result.then((served) => {
      void noteRecentModel(this.#options.dataDir, planned.plan.model.path, planned.options).catch(() => undefined);
      this.emit('loaded', planned, served);
    }, () => {
      if (this.#served === run) this.#served = null;
    });
    return this.#hold('load', run);
  }

  /** Stop loading, or stop serving, the model of the last load. */
  async unload(): Promise<void> {
    const served = this.#served;
    this.#served = null;
    await served?.stop();
  }

  /** Streams opened to members so far. */
  linkCounts(): LinkCounts {
    return this.#links.counts();
  }

  /** Refuse to start `action` while a pre-warm or a load runs, saying what to do (keep-warm gives way instead). */
  assertIdle(action: string): void {
    if (this.#busy?.what === 'pre-warm') throw new HearthError('busy', `Cannot ${action} while a pre-warm runs: cancel it first (what arrived stays in each cache).`);
    if (this.#busy?.what === 'load') throw new HearthError('busy', `Cannot ${action} while a load runs: wait for it, or press Unload to stop it.`);
  }

  /** The model file changed (another one opened): stop making the old one's hashes. */
  forgetModel(): void {
    this.#manifest.drop();
  }

  /** Stop everything: a warm-up, the served model, the links. */
  async close(): Promise<void> {
    this.#busy?.run.cancel();
    await this.#busy?.run.result.catch(() => undefined);
    await this.unload();
    this.#manifest.drop();
    await this.#links.close();
  }

  #hold<R extends WarmRun | LoadRun>(what: Busy['what'], run: R): R {
    const busy = { what, run } as Busy;
    this.#busy = busy;
    const release = () => {
      if (this.#busy !== busy) return;
      this.#busy = null;
      this.emit('idle');
    };
    run.result.then(release, release);
    return run;
  }

  /** Stop a background warm-up for the user's work: what it moved stays; settles once it has stopped. */
  async #preempt(): Promise<void> {
    const busy = this.#busy;
    if (busy?.what !== 'keep-warm') return;
    busy.run.cancel();
    await busy.run.result.catch(() => undefined);
  }

  #healContext(): HealContext {
    return {
      members: () => this.#options.members.current().members,
      answers: async (member) => {
        await this.#links.of(member).worker.call('status', {}, { timeoutMs: HEAL_PROBE_MS });
        return true;
      },
      plan: (previous, options, among) => this.plan(previous.model, options, among).result,
      uncachedBytes: async (planned) => {
        const coverage = await (await this.coverage(planned))?.refresh();
        return (coverage ?? []).reduce((sum, peer) => sum + (peer.error ? Infinity : peer.shareBytes - peer.cachedBytes), 0);
      },
    };
  }

  #linksOf(planned: Planned): PeerLink[] {
    return planned.members.map((member) => this.#links.of(member));
  }

  async #shares(planned: Planned, onHashing?: (fraction: number) => void, signal?: AbortSignal): Promise<{ shares: PeerShare[]; manifest: HashManifest | null }> {
    if (!planGivesPeersCachedTensors(planned.plan)) return { shares: [], manifest: null };
    const manifest = await this.#manifest.of(planned.plan.model.path, onHashing, signal);
    return { shares: peerShares(planned.plan, manifest, this.#linksOf(planned)), manifest };
  }
}

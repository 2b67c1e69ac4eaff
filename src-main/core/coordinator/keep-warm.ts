// Keep-warm: the cluster keeps the models this machine loaded lately warm. After a load, when a
// member joins or is paired again, or when the cluster changes so the plan does, each recent
// model is planned again as its last load was, and whatever a member's cache lacks of its share
// is pushed in the background: throttled, out of the way of the user's own pre-warms and loads
// (they stop it; it goes on after them), and resumable (what moved stays). The next load of a
// recent model on an unchanged cluster then sends no cached tensor.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeepWarmView } from '../../shared/keep-warm.js';
import type { WarmupProgress } from '../../shared/cache-progress.js';
import { isProcessAlive } from '../base/process-alive.js';
import { writeFileAtomic } from '../base/write-atomic.js';
import type { PlanModel } from '../planner/plan-types.js';
import type { Coordinator } from './coordinator.js';
import { readRecentModels } from './recent-models.js';

/** Per member, the pace of background pushes: about a quarter of a 1 Gbit link. */
export const KEEP_WARM_BYTES_PER_SECOND = 32 * 2 ** 20;
/** Changes come in bursts (a peer's adverts, a load's end): one pass after they settle. */
const SETTLE_MS = 2_000;

export interface KeepWarmOptions {
  coordinator: Coordinator;
  /** Hear of members coming, going or paired again. */
  onMembersChange: (listener: () => void) => () => void;
  dataDir: string;
  /** How to read a model file for the planner (its header). */
  readModel: (file: string) => Promise<PlanModel>;
  maxBytesPerSecond?: number;
  settleMs?: number;
}

/** The background work; `change` carries its view at every step. */
export class KeepWarm extends EventEmitter<{ change: [KeepWarmView] }> {
  readonly #options: KeepWarmOptions;
  #enabled = false;
  #view: KeepWarmView;
  #timer: NodeJS.Timeout | null = null;
  #pass: Promise<void> | null = null;
  /** Asked again while a pass ran: one more when it ends. */
  #again = false;
  readonly #offs: (() => void)[] = [];
  #writtenAt = 0;

  constructor(options: KeepWarmOptions) {
    super();
    this.#options = options;
    this.#view = { state: 'off', model: null, peers: [], maxBytesPerSecond: this.#rate, error: null };
    const onLoaded = () => this.nudge();
    const onIdle = () => this.#view.state === 'waiting' && this.nudge();
    options.coordinator.on('loaded', onLoaded);
    options.coordinator.on('idle', onIdle);
    this.#offs.push(() => options.coordinator.off('loaded', onLoaded), () => options.coordinator.off('idle', onIdle), options.onMembersChange(() => this.nudge()));
  }

  get view(): KeepWarmView {
    return structuredClone(this.#view);
  }

  /** Turn it on (a pass follows) or off (a running warm-up is stopped; what moved stays). */
  setEnabled(on: boolean): void {
    this.#enabled = on;
    if (on) {
      this.#update({ state: 'idle' });
      this.nudge();
    } else {
      this.#cancelTimer();
      this.#options.coordinator.cancelBackground();
      this.#update({ state: 'off', model: null, peers: [], error: null });
    }
  }

  /** Something changed (a member came or was paired again, a load ended): look again once things settle. */
  nudge(): void {
    if (!this.#enabled) return;
    this.#cancelTimer();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#pass) this.#again = true;
      else this.#pass = this.#run().finally(() => {
        this.#pass = null;
        if (this.#again) {
          this.#again = false;
          this.nudge();
        }
      });
    }, this.#options.settleMs ?? SETTLE_MS);
    this.#timer.unref();
  }

  /** Stop for good: no pass starts again, and a running warm-up stops. */
  async stop(): Promise<void> {
    this.#enabled = false;
    this.#cancelTimer();
    for (const off of this.#offs.splice(0)) off();
    this.#options.coordinator.cancelBackground();
    await this.#pass;
  }

  get #rate(): number {
    return this.#options.maxBytesPerSecond ?? KEEP_WARM_BYTES_PER_SECOND;
  }

  /** One look at every recent model, newest first; the first that lacks something is warmed, then the next. */
  async #run(): Promise<void> {
    const { coordinator } = this.#options;
    const failures: string[] = [];
    for (const recent of await readRecentModels(this.#options.dataDir)) {
      if (!this.#enabled) return;
      // The user's work first: this pass ends and the next starts when the coordinator is idle.
      if (coordinator.busy) return this.#update({ state: 'waiting', model: null, peers: [] });
      const name = path.basename(recent.path);
      try {
        const planned = await coordinator.plan(await this.#options.readModel(recent.path), recent.options).result;
        if (!planned.plan.fits) continue;
        const coverage = await (await coordinator.coverage(planned))?.refresh();
        if (!coverage || coverage.every((peer) => peer.error === null && peer.cachedBytes >= peer.shareBytes)) continue;
        if (coordinator.busy) return this.#update({ state: 'waiting', model: null, peers: [] });
        const run = coordinator.warm(planned, { maxBytesPerSecond: this.#rate, background: true });
        const peers = new Map<string, WarmupProgress>();
        this.#update({ state: 'warming', model: name, peers: [], error: null });
        run.on('progress', (progress) => {
          peers.set(progress.peerId, progress);
          this.#update({ peers: [...peers.values()] });
        });
        const report = await run.result;
        // Stopped for the user's work (or turned off): the next pass goes on from what moved.
        if (report.state === 'cancelled') return this.#update({ state: this.#enabled ? 'waiting' : 'off', peers: [] });
        if (report.state === 'failed') failures.push(`${name}: ${report.error}`);
      } catch (error) {
        // A recent model moved or damaged, a member gone: noted, the others still get their turn.
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
    if (!this.#enabled) return;
    this.#update(failures.length > 0 ? { state: 'failed', model: null, peers: [], error: failures.join('; ') } : { state: 'idle', model: null, peers: [], error: null });
  }

  #cancelTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #update(change: Partial<KeepWarmView>): void {
    const before = this.#view;
    this.#view = { ...before, ...change, maxBytesPerSecond: this.#rate };
    this.emit('change', this.view);
    // For `hearth cache ls` on this machine: where keep-warm stands, at each step and at most once a second in between.
    const now = Date.now();
    if (before.state !== this.#view.state || before.model !== this.#view.model || now - this.#writtenAt >= 1000) {
      this.#writtenAt = now;
      void writeFileAtomic(keepWarmFile(this.#options.dataDir), `${JSON.stringify({ pid: process.pid, ...this.#view })}\n`).catch(() => undefined);
    }
  }
}

/** Where the running keep-warm writes its view. */
export function keepWarmFile(dataDir: string): string {
  return path.join(dataDir, 'keep-warm.json');
}

/** What this machine's running keep-warm last wrote (null when none runs). */
export async function readKeepWarm(dataDir: string): Promise<KeepWarmView | null> {
  try {
    const record = JSON.parse(await readFile(keepWarmFile(dataDir), 'utf8')) as KeepWarmView & { pid?: unknown };
    return typeof record.pid === 'number' && isProcessAlive(record.pid) && typeof record.state === 'string' ? record : null;
  } catch {
    return null;
  }
}

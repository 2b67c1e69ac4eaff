import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process the supervisor runs: it reports when it ends and can be stopped. */
export interface Supervised {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logTail(): string[];
  stop(): Promise<void>;
}

/** What the supervisor is doing. */
export type SupervisorState =
  | { state: 'starting'; attempt: number }
  | { state: 'running' }
  | { state: 'restarting'; inMs: number; reason: string }
  | { state: 'stopped' };

export interface SupervisorOptions<T extends Supervised> {
  /** Start one instance; resolves once it serves. */
  launch: () => Promise<T>;
  /** First restart delay; doubles up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run this long counts as healthy and resets the backoff. */
  healthyAfterMs?: number;
  clock?: () => number;
  wait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/**
 * Keep a process running: restart it with exponential backoff after it crashes or fails to
 * start, and stop it cleanly on request. Emits `state` and `running` (with the instance).
 */
export class Supervisor<T extends Supervised> extends EventEmitter {
  readonly #options: Required<SupervisorOptions<T>>;
  readonly #abort = new AbortController();
  #current: T | null = null;
  #loop: Promise<void> | null = null;
  #state: SupervisorState = { state: 'stopped' };
  #restarts = 0;

  constructor(options: SupervisorOptions<T>) {
    super();
    this.#options = {
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      healthyAfterMs: 60_000,
      clock: Date.now,
      wait: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
      ...options,
    };
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** Restarts since supervision began. */
  get restarts(): number {
    return this.#restarts;
  }

  get current(): T | null {
    return this.#current;
  }

  /** Start supervising; resolves once the first instance runs or the first start failed. */
  start(): Promise<void> {
    if (this.#loop) throw new Error('already started');
    return new Promise((resolve) => {
      const settle = () => resolve();
      this.once('running', settle);
      this.once('start-failed', settle);
      this.#loop = this.#run();
    });
  }

  /** Stop the instance and stop restarting it. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#current?.stop();
    await this.#loop;
    this.#setState({ state: 'stopped' });
  }

  async #run(): Promise<void> {
    const { signal } = this.#abort;
    let backoff = this.#options.initialBackoffMs;
    for (let attempt = 1; !signal.aborted; attempt++) {
      this.#setState({ state: 'starting', attempt });
      let reason: string;
      const startedAt = this.#options.clock();
      try {
        const instance = await this.#options.launch();
        if (signal.aborted) return void (await instance.stop());
        this.#current = instance;
        this.#setState({ state: 'running' });
        this.emit('running', instance);
        const { code, signal: exitSignal } = await instance.exited;
        this.#current = null;
        if (signal.aborted) return;
        reason = `exited (${exitSignal ?? `exit code ${code}`}): ${instance.logTail().slice(-3).join(' | ')}`;
        if (this.#options.clock() - startedAt >= this.#options.healthyAfterMs) backoff = this.#options.initialBackoffMs;
      } catch (error) {
        reason = (error as Error).message;
        this.emit('start-failed', error);
      }
      if (signal.aborted) return;
      this.#restarts++;
      this.#setState({ state: 'restarting', inMs: backoff, reason });
      await this.#options.wait(backoff, signal);
      backoff = Math.min(backoff * 2, this.#options.maxBackoffMs);
    }
  }

  #setState(state: SupervisorState): void {
    this.#state = state;
    this.emit('state', state);
  }
}

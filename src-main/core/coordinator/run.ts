// A long piece of coordinator work (a plan, a warm-up, a load) as one object: its events as they
// happen, a way to cancel it, and its result. The CLI and the UI only present runs.
import { EventEmitter } from 'node:events';

/** Work in progress; `E` names its events and their arguments. */
export class Run<E extends Record<keyof E, unknown[]>, R> extends EventEmitter<E> {
  /** Settles once the work is over: with its result, or its error (a cancelled run rejects with the abort reason). */
  readonly result: Promise<R>;
  readonly #abort = new AbortController();

  /** Start `work` at once; it gets the run (to emit) and the signal that cancels it. */
  constructor(work: (run: Run<E, R>, signal: AbortSignal) => Promise<R>) {
    super();
    // Listeners attach after the constructor returns: start the work on the next tick so they hear its first events.
    this.result = Promise.resolve().then(() => work(this, this.#abort.signal));
    // Whoever cancels need not also await: a rejection nobody reads must not end the process.
    this.result.catch(() => undefined);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get cancelled(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Ask the work to stop; `result` says how it ended. */
  cancel(reason: unknown = new CancelledError()): void {
    this.#abort.abort(reason);
  }
}

/** The reason a run was cancelled when no other is given. */
export class CancelledError extends Error {
  override name = 'CancelledError';

  constructor() {
    super('cancelled');
  }
}

// What a model load is doing, as the UI and the gateway show it.

/** How far a load has come. */
export interface LoadProgress {
  /** What is happening now, e.g. "loading tensors". */
  step: string;
  /**
   * The share of the model's tensor data read (or sent to the RPC workers), by bytes, as
   * llama.cpp itself reports it; null until it first does. It stays at 1 through the steps
   * llama.cpp gives no measure for (creating the context, warm-up): show those as busy.
   */
  fraction: number | null;
}

/** Why a llama-server is not serving: the reason in words and the last lines it printed. */
export interface LoadFailure {
  /** Whether it never became ready ("load") or died after it did ("serve"). */
  during: 'load' | 'serve';
  reason: string;
  logTail: string[];
}

/** The life of one llama-server: starting → loading → ready | failed | stopped. */
export type LoadState =
  | { state: 'starting' }
  | { state: 'loading'; progress: LoadProgress }
  | { state: 'ready'; url: string }
  | ({ state: 'failed' } & LoadFailure)
  | { state: 'stopped' };

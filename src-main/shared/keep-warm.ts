import type { WarmupProgress } from './cache-progress.js';

/** Keep-warm: the members' caches kept warm in the background for the models this machine loaded lately. */
export interface KeepWarmView {
  /**
   * off: the setting is off; idle: every recent model's shares are in the members' caches;
   * waiting: a pre-warm or load of the user's runs, keep-warm goes on after it; warming: pushing
   * a recent model's missing entries; failed: the last look could not finish (`error` says why).
   */
  state: 'off' | 'idle' | 'waiting' | 'warming' | 'failed';
  /** The model being warmed (file name), while warming. */
  model: string | null;
  peers: WarmupProgress[];
  /** The pace each member is pushed at, bytes per second. */
  maxBytesPerSecond: number;
  error: string | null;
}

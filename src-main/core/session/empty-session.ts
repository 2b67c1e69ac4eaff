// The session before any model is open: what the UI shows at first, even while the tools build.
import type { ModelSession, PlanChoices } from '../api/contract.js';

/** Auto: Hearth's default context, shares by free memory, nothing left out. */
export const AUTO_CHOICES: PlanChoices = { contextLength: null, shares: {}, exclude: [] };

/** Nothing loading or served. */
export function idleLoad(): ModelSession['load'] {
  return { state: 'idle', step: null, fraction: null, cache: [], samples: [], error: null, logTail: [], api: null };
}

/** No model open. */
export function emptySession(): ModelSession {
  return { model: null, choices: AUTO_CHOICES, plan: null, planError: null, coverage: [], warmup: null, load: idleLoad() };
}

// The session before any model is open: what the UI shows at first, even while the tools build.
import type { ModelSession } from '../api/contract.js';
import { AUTO_CHOICES } from '../../shared/plan-choices.js';

/** Nothing loading or served. */
export function idleLoad(): ModelSession['load'] {
  return { state: 'idle', step: null, fraction: null, cache: [], samples: [], error: null, logTail: [], api: null, notice: null, peerBack: null };
}

/** No model open. */
export function emptySession(): ModelSession {
  return { model: null, choices: structuredClone(AUTO_CHOICES), plan: null, planError: null, coverage: [], warmup: null, load: idleLoad() };
}

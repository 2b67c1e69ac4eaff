// Says why no model can answer a request, as the 503 a client shows its user.
import type { LoadFailure } from '../load-state.js';
import type { SlotStatus } from '../model-slot.js';
import { GatewayError } from './gateway-error.js';

const LINES_IN_MESSAGE = 5;
const LINES_IN_BODY = 20;

/** The error for a request that arrives while the slot is not ready. */
export function unavailableError(status: Exclude<SlotStatus, { state: 'ready' }>): GatewayError {
  switch (status.state) {
    case 'empty':
      return new GatewayError(503, 'No model is loaded: load one in Hearth (or run `hearth load <model.gguf>`), then retry.', 'model_not_loaded');
    case 'loading': {
      const { step, fraction } = status.progress;
      const done = fraction === null ? '' : ` ${Math.floor(fraction * 100)}%`;
      return new GatewayError(503, `The model "${status.modelId}" is still loading (${step}${done}): retry in a moment.`, 'model_loading');
    }
    case 'unloading':
      return new GatewayError(503, `The model "${status.modelId}" is being unloaded: load a model, then retry.`, 'model_unloading');
    case 'failed':
      return failedError(status.modelId, status);
  }
}

/** The error for a model whose llama-server failed to load or died while serving. */
export function failedError(modelId: string, failure: LoadFailure): GatewayError {
  const what = failure.during === 'load' ? 'failed to load' : 'stopped';
  const tail = failure.logTail.slice(-LINES_IN_MESSAGE);
  const lines = tail.length > 0 ? `\nLast lines of its log:\n${tail.join('\n')}` : '';
  return new GatewayError(503, `The model "${modelId}" ${what}: ${failure.reason}. Load it again in Hearth.${lines}`, 'model_failed', null, failure.logTail.slice(-LINES_IN_BODY));
}

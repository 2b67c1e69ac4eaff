// The answer of a route passed on to llama-server, relayed as it comes: its status, its body
// and a few of its headers. Only its refusals are reshaped (backend-errors.ts).
import type http from 'node:http';
import type { AnswerWriter } from './backend-exchange.js';
import { readBackendError } from './backend-errors.js';
import type { ApiDialect } from './error-replies.js';
import type { ModelFeature } from './llama-routes.js';

// The answer headers worth passing on; hop-by-hop and llama-server's CORS headers are not.
const PASSED_HEADERS = ['content-type', 'content-length', 'cache-control'];

/**
 * A writer that relays llama-server's answer unchanged, except refusals: OpenAI-shaped already,
 * they pass as they are to OpenAI clients, and are reshaped for Anthropic's; those about a
 * feature the model was not loaded for (`feature`) are worded by Hearth.
 */
export function relayAnswer(dialect: ApiDialect, modelId: string, feature?: ModelFeature): AnswerWriter {
  return async (answer: http.IncomingMessage, res: http.ServerResponse) => {
    const status = answer.statusCode ?? 502;
    if (status >= 400 && (dialect !== 'openai' || (status === 501 && feature))) throw await readBackendError(answer, modelId, feature);
    res.statusCode = status;
    for (const name of PASSED_HEADERS) {
      const value = answer.headers[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    // Send the status line now, so a client sees the stream open before the first token.
    res.flushHeaders();
    answer.pipe(res, { end: false });
    await new Promise<void>((resolve) => answer.once('end', resolve));
  };
}

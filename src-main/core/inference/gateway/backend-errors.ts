// llama-server's refusals, read into GatewayErrors so that each API's clients get them in their
// own shape, and worded by Hearth where llama-server's words are meant for whoever started it.
import type http from 'node:http';
import { readText } from '../../net/http-request.js';
import { GatewayError } from './gateway-error.js';
import type { ModelFeature } from './llama-routes.js';

// An error answer is a line or two of JSON; a longer one is cut, not read to its end.
const MAX_ERROR_CHARS = 64 * 1024;

/** llama-server's error answer as a GatewayError; `feature` says what a 501 (not supported) was about. */
export async function readBackendError(answer: http.IncomingMessage, modelId: string, feature?: ModelFeature): Promise<GatewayError> {
  const status = answer.statusCode ?? 502;
  const text = await readText(answer, { maxChars: MAX_ERROR_CHARS, cut: true });
  // tools/server/server-common.cpp, format_error_response: { error: { code, message, type } }.
  let error: { message?: unknown; type?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // Not JSON: its text is the message.
  }
  const message = typeof error?.message === 'string' ? error.message : text.trim() || `llama-server answered ${status}`;
  const code = typeof error?.type === 'string' ? error.type : null;
  if (status === 501 && feature) return new GatewayError(501, notSupported(feature, modelId, message), 'not_supported');
  return new GatewayError(status, message, code);
}

function notSupported(feature: ModelFeature, modelId: string, said: string): string {
  switch (feature) {
    case 'embeddings':
      return `The model "${modelId}" is loaded to generate text: llama.cpp serves embeddings only from a model loaded for them alone (llama-server --embeddings), which Hearth does not do. Run your embedding model in a llama-server of its own.`;
    case 'reranking':
      return `The model "${modelId}" is loaded to generate text: llama.cpp reranks only with a reranking model loaded for it alone (llama-server --reranking), which Hearth does not do. Run your reranker in a llama-server of its own.`;
    case 'infill':
      return `The model "${modelId}" cannot fill in the middle (llama-server: ${said.trim()}). Load a code model trained for infill, e.g. Qwen2.5-Coder, CodeLlama or StarCoder2.`;
  }
}

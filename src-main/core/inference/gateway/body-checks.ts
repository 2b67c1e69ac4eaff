// The fields Hearth relies on in each kind of request, checked before llama-server sees it: a
// 400 naming the field beats the engine's obscure answer, or its generating from a bad prompt.
import { GatewayError } from './gateway-error.js';
import type { RequestBody } from './request-body.js';

/** What a route needs in its body, beyond being a JSON object. */
export type BodyCheck = (body: RequestBody) => void;

/** Fields every request may carry: a `model` name (any is accepted, the gateway serves one) and `stream`. */
export const checkCommonFields: BodyCheck = (body) => {
  if (body.model !== undefined && typeof body.model !== 'string') throw invalid('model', 'must be a string');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream', 'must be true or false');
};

/** OpenAI's chat and Anthropic's messages: a non-empty array of messages, each with a role. */
export const checkMessages: BodyCheck = (body) => {
  checkCommonFields(body);
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'must be a non-empty array of messages');
  const bad = messages.findIndex((m) => typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string');
  if (bad >= 0) throw invalid(`messages[${bad}]`, 'must be an object with a "role" string');
};

/** OpenAI's completions: a prompt, as a string, an array of strings, token ids, or arrays of those. */
export const checkPrompt: BodyCheck = (body) => {
  checkCommonFields(body);
  const { prompt } = body;
  const isPrompt = typeof prompt === 'string' || (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string' || typeof p === 'number' || Array.isArray(p)));
  if (!isPrompt) throw invalid('prompt', 'must be a string or an array of strings or token ids');
};

/** llama-server's own completion routes take richer prompts (with media): only its presence is checked. */
export const checkAnyPrompt: BodyCheck = (body) => {
  checkCommonFields(body);
  if (body.prompt === undefined || body.prompt === null) throw invalid('prompt', 'is required');
};

/** A 400 naming the field at fault. */
export function invalid(param: string, what: string): GatewayError {
  return new GatewayError(400, `"${param}" ${what}.`, 'invalid_value', param);
}

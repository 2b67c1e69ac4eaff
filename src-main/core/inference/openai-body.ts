// Reads and checks the body of an OpenAI request before it reaches llama-server, so a bad
// request gets a clear 4xx from Hearth instead of an obscure one from the engine (or none).
import type http from 'node:http';
import { OpenAiError } from './openai-errors.js';

/** Long chats with long documents pasted in are legitimately large; 8 MiB is far past any context. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The routes that forward a body, and what each one needs in it. */
export type CompletionRoute = 'chat' | 'completion';

/** A checked request body, as llama-server will get it. */
export type CompletionBody = Record<string, unknown> & { stream?: boolean };

/** Read the body of a completion request and check it; throws an OpenAiError (413, 415, 400). */
export async function readCompletionBody(req: http.IncomingMessage, route: CompletionRoute, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<CompletionBody> {
  // A JSON content type also makes browsers preflight, which this API never answers: no cross-site posts.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new OpenAiError(415, 'Send the request body as JSON, with Content-Type: application/json.', 'unsupported_media_type');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new OpenAiError(400, `The request body is not valid JSON: ${(error as Error).message}`, 'invalid_json');
  }
  return checkCompletionBody(body, route);
}

/** Check a parsed body for the fields Hearth relies on; throws an OpenAiError (400) naming the field. */
export function checkCompletionBody(body: unknown, route: CompletionRoute): CompletionBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OpenAiError(400, 'The request body must be a JSON object.', 'invalid_body');
  }
  const fields = body as Record<string, unknown>;
  if (fields.model !== undefined && typeof fields.model !== 'string') throw invalid('model', 'must be a string');
  if (fields.stream !== undefined && fields.stream !== null && typeof fields.stream !== 'boolean') throw invalid('stream', 'must be true or false');
  if (route === 'chat') {
    const { messages } = fields;
    if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'must be a non-empty array of messages');
    const bad = messages.findIndex((m) => typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string');
    if (bad >= 0) throw invalid(`messages[${bad}]`, 'must be an object with a "role" string');
  } else {
    const { prompt } = fields;
    // OpenAI takes a string, an array of strings, an array of token ids, or an array of those arrays.
    const isPrompt = typeof prompt === 'string' || (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string' || typeof p === 'number' || Array.isArray(p)));
    if (!isPrompt) throw invalid('prompt', 'must be a string or an array of strings or token ids');
  }
  return fields as CompletionBody;
}

function invalid(param: string, what: string): OpenAiError {
  return new OpenAiError(400, `"${param}" ${what}.`, 'invalid_value', param);
}

function tooLarge(maxBytes: number): OpenAiError {
  return new OpenAiError(413, `The request body is over ${Math.round(maxBytes / 2 ** 20)} MiB.`, 'request_too_large');
}

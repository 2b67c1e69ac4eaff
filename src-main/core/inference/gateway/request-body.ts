// Reads a request's JSON body before it reaches llama-server, so a bad request gets a clear 4xx
// from Hearth instead of an obscure one from the engine (or none).
import type http from 'node:http';
import { GatewayError } from './gateway-error.js';

/** Long chats with long documents pasted in are legitimately large; 8 MiB is far past any context. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** A request body: a JSON object, passed on to llama-server as it came unless a route translates it. */
export type RequestBody = Record<string, unknown> & { stream?: boolean };

/** How strict to be about the body's type. */
export interface BodyRules {
  maxBytes?: number;
  /**
   * Take a body of any content type from a client that is not a web page (no Origin header):
   * Ollama's documented examples are `curl -d`, which says form-urlencoded. A page's requests
   * always carry Origin, and so still have to say JSON, which makes a browser ask first (a
   * preflight this API never answers): no cross-site posts either way.
   */
  anyTypeWithoutOrigin?: boolean;
}

/** Read the body as a JSON object; throws a GatewayError (413, 415, 400). */
export async function readRequestBody(req: http.IncomingMessage, rules: BodyRules = {}): Promise<RequestBody> {
  const maxBytes = rules.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const saysJson = /^application\/json\b/i.test(req.headers['content-type'] ?? '');
  if (!saysJson && !(rules.anyTypeWithoutOrigin && req.headers.origin === undefined)) {
    throw new GatewayError(415, 'Send the request body as JSON, with Content-Type: application/json.', 'unsupported_media_type');
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
    throw new GatewayError(400, `The request body is not valid JSON: ${(error as Error).message}`, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError(400, 'The request body must be a JSON object.', 'invalid_body');
  }
  return body as RequestBody;
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(413, `The request body is over ${Math.round(maxBytes / 2 ** 20)} MiB.`, 'request_too_large');
}

// Errors in the shape each API's clients parse, so the official SDKs show Hearth's message
// instead of a parse failure: OpenAI's `{ error: { message, type, param, code } }`, Anthropic's
// `{ type: "error", error: { type, message } }`, Ollama's `{ error: message }`.
import type http from 'node:http';
import { sendJson } from '../../net/http-replies.js';
import { GatewayError } from './gateway-error.js';

/** Which API a route belongs to, and so the shape of its errors. */
export type ApiDialect = 'openai' | 'anthropic' | 'ollama';

/** The API a path belongs to: Ollama's under /api/, Anthropic's Messages under /v1/messages, OpenAI's (and llama-server's own) elsewhere. */
export function dialectOf(path: string): ApiDialect {
  if (path.startsWith('/api/')) return 'ollama';
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return 'anthropic';
  return 'openai';
}

/** The JSON body of `error` as the dialect's clients expect it. */
export function errorBody(dialect: ApiDialect, error: GatewayError): object {
  switch (dialect) {
    case 'openai': {
      const body = { message: error.message, type: error.status >= 500 ? 'server_error' : 'invalid_request_error', param: error.param, code: error.code };
      return { error: error.logTail ? { ...body, log_tail: error.logTail } : body };
    }
    case 'anthropic':
      return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
    case 'ollama':
      return { error: error.message };
  }
}

/** End the reply with `error`, shaped for `dialect`. */
export function sendGatewayError(res: http.ServerResponse, dialect: ApiDialect, error: GatewayError): void {
  // The rest of an oversized or unread body is still on the wire: this connection cannot carry another request.
  if (error.status === 413 || error.status === 415 || error.status === 401) res.setHeader('Connection', 'close');
  sendJson(res, error.status, errorBody(dialect, error));
}

/** Answer 405: `path` takes only `allowed`. */
export function sendWrongMethod(res: http.ServerResponse, dialect: ApiDialect, allowed: string, path: string): void {
  res.setHeader('Allow', allowed);
  sendGatewayError(res, dialect, new GatewayError(405, `Use ${allowed} for ${path}.`, 'method_not_allowed'));
}

/** The last piece of a stream cut short, which the dialect's SDKs raise as an error. */
export function streamErrorChunk(dialect: ApiDialect, error: GatewayError): string {
  const body = JSON.stringify(errorBody(dialect, error));
  switch (dialect) {
    case 'openai':
      return `data: ${body}\n\n`;
    case 'anthropic':
      return `event: error\ndata: ${body}\n\n`;
    case 'ollama':
      return `${body}\n`;
  }
}

// https://docs.anthropic.com/en/api/errors: the SDKs pick their error class by status, clients read the type.
function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

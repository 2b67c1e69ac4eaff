// Errors in the shape OpenAI's API uses, so clients (the official SDKs among them) show the
// message instead of a parse failure: `{ "error": { message, type, param, code } }`.
import type http from 'node:http';
import { sendJson } from '../net/http-replies.js';

/** The body of an OpenAI-style error. */
export interface OpenAiErrorBody {
  message: string;
  type: 'invalid_request_error' | 'server_error';
  param: string | null;
  code: string | null;
  /** Hearth's addition: llama-server's last log lines, when it failed. */
  log_tail?: string[];
}

/** A failure that becomes an OpenAI-style error reply. */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly logTail?: string[],
  ) {
    super(message);
  }

  /** The JSON body to send. */
  toBody(): { error: OpenAiErrorBody } {
    const type = this.status >= 500 ? 'server_error' : 'invalid_request_error';
    const error: OpenAiErrorBody = { message: this.message, type, param: this.param, code: this.code };
    if (this.logTail) error.log_tail = this.logTail;
    return { error };
  }
}

/** Ends the reply with `error` as an OpenAI-style JSON error. */
export function sendOpenAiError(res: http.ServerResponse, error: OpenAiError): void {
  sendJson(res, error.status, error.toBody());
}

/** One server-sent event that OpenAI's SDKs raise as an APIError: how a stream cut short says why. */
export function sseErrorEvent(error: OpenAiError): string {
  return `data: ${JSON.stringify(error.toBody())}\n\n`;
}

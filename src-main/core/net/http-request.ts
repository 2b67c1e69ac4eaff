// Short HTTP requests (a worker's control API, llama-server's health) on node:http. Not fetch:
// the first fetch in a process loads undici, about 60 ms of CPU on the test machine where the
// first node:http request takes 15 ms, and `hearth load` paid that before llama-server could start.
import http from 'node:http';

/** An answer, its body read whole. */
export interface HttpAnswer {
  status: number;
  /** 2xx. */
  ok: boolean;
  text: string;
}

/** How to make one request. */
export interface HttpRequestOptions {
  method?: string;
  /** Sent as the body, as JSON. */
  json?: unknown;
  /** Give up when the whole answer has not arrived by then (default: no overall limit). */
  timeoutMs?: number;
  /**
   * Give up when nothing arrives for this long: fetch's own limit, so a peer gone without a word
   * (its link stream open, nothing coming) cannot hang a caller for good. null for an answer that
   * comes only once long work is done (verifying a whole cache).
   */
  idleTimeoutMs?: number | null;
  signal?: AbortSignal;
  agent?: http.Agent;
  /** Sent beside the JSON ones, e.g. Authorization. */
  headers?: Record<string, string>;
}

/** Longest answer body read: a control API's answers are hash lists and figures, far below this; a lying peer cannot fill memory. */
const MAX_ANSWER_CHARS = 64 * 2 ** 20;
/** Node's fetch (undici) waits this long for headers, and then for each part of the body. */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** One request; rejects when it cannot be made, times out or is aborted, resolves with any status. */
export function httpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { ...options.headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
      signal: options.signal,
      agent: options.agent,
    });
    const idleMs = options.idleTimeoutMs === undefined ? DEFAULT_IDLE_TIMEOUT_MS : options.idleTimeoutMs;
    if (idleMs !== null) request.setTimeout(idleMs, () => request.destroy(new Error(`nothing came for ${idleMs / 1000} s`)));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      request.destroy(new Error(`no answer within ${options.timeoutMs! / 1000} s`));
    }, options.timeoutMs);
    request.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.once('response', (response) => {
      readText(response).then((text) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text });
      }, (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      });
    });
    request.end(body);
  });
}

/** The answer's body as JSON; null when it is empty or not JSON. */
export function answerJson(answer: HttpAnswer): unknown {
  try {
    return answer.text ? JSON.parse(answer.text) : null;
  } catch {
    return null;
  }
}

/**
 * A response's body as text, at most `maxChars` of it: past that it is refused, or with `cut`
 * (a peer's error reply, only the start of which is shown) its start is kept and the rest dropped.
 */
export async function readText(response: http.IncomingMessage, options: { maxChars?: number; cut?: boolean } = {}): Promise<string> {
  const maxChars = options.maxChars ?? MAX_ANSWER_CHARS;
  let text = '';
  // Decoded by the stream, so a character split across chunks stays whole.
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) {
    text += chunk;
    if (text.length > maxChars) {
      response.destroy();
      if (options.cut) return text.slice(0, maxChars);
      throw new Error(`the answer is longer than ${maxChars} characters`);
    }
  }
  return text;
}

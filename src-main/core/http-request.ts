// Short HTTP requests (a worker's control API, llama-server's health) on node:http. Not fetch:
// its first call in a process loads undici, about 60 ms of CPU on the test machine (against
// 15 ms here), and `hearth load` paid that before llama-server could start.
import http from 'node:http';

/** An answer, its body read whole. */
export interface HttpAnswer {
  status: number;
  /** 2xx. */
  ok: boolean;
  text: string;
}

export interface HttpRequestOptions {
  method?: string;
  /** Sent as the body, as JSON. */
  json?: unknown;
  /** Give up (the promise rejects) when the whole answer has not arrived by then. */
  timeoutMs?: number;
  signal?: AbortSignal;
  agent?: http.Agent;
}

/** Longest answer body read: a control API's answers are hash lists and figures, far below this; a lying peer cannot fill memory. */
const MAX_ANSWER_CHARS = 64 * 2 ** 20;

/** One request; rejects when it cannot be made, times out or is aborted, resolves with any status. */
export function httpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      signal: options.signal,
      agent: options.agent,
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      request.destroy(new Error(`no answer within ${options.timeoutMs! / 1000} s`));
    }, options.timeoutMs);
    request.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.once('response', (response) => {
      readText(response, MAX_ANSWER_CHARS).then((text) => {
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

/** A response's body as text, refused past `maxChars` characters. */
export async function readText(response: http.IncomingMessage, maxChars = MAX_ANSWER_CHARS): Promise<string> {
  let text = '';
  // Decoded by the stream, so a character split across chunks stays whole.
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) {
    text += chunk;
    if (text.length > maxChars) {
      response.destroy();
      throw new Error(`the answer is longer than ${maxChars} characters`);
    }
  }
  return text;
}

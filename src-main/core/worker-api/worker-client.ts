// The one way to talk to a worker's control API: this machine's own on loopback, or a member's
// through the secure link. Every answer is decoded against the route table, so a peer that answers
// with another shape (another Hearth version, or a lying one) is an "incompatible peer" error,
// never a crash further on.
import http from 'node:http';
import { DecodeError, tryDecode, type Decoder } from '../base/decode.js';
import { HearthError } from '../base/errors.js';
import { answerJson, httpRequest, readText, type HttpAnswer } from '../net/http-request.js';
import { ENTRY_BYTES_PATH, fillPath, WORKER_ROUTES, type RouteAnswer, type RouteInput, type WorkerRouteName } from './routes.js';
import { refusal } from './wire.js';

/** Where a worker is and how to reach it. */
export interface WorkerClientOptions {
  /** Who answers, for messages: a peer's name, or "this machine's worker". */
  name: string;
  /** Base URL of its control API (`http://127.0.0.1:7435/`; with `agent`, any loopback URL). */
  baseUrl: string;
  /** Connections to use instead of TCP to `baseUrl`: a member's secure-link streams. */
  agent?: http.Agent;
  /** Give up on a call when nothing arrives for this long (default 300 s; null: never, for this machine's own worker). */
  idleTimeoutMs?: number | null;
  /** Said after "did not answer" to tell the user what to check. */
  unreachableHint?: string;
}

/** Per call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** The whole answer must have arrived by then. */
  timeoutMs?: number;
  idleTimeoutMs?: number | null;
}

/** A worker answered, but with a refusal: its status, and what it said. */
export class WorkerRefusal extends HearthError {
  constructor(message: string, readonly status: number, readonly reply: { error?: string; code?: string; reason?: string; offset?: number }, options?: ErrorOptions) {
    super('peer-refused', message, options);
  }
}

/** A worker's control API. */
export class WorkerClient {
  readonly name: string;
  readonly #options: WorkerClientOptions;

  constructor(options: WorkerClientOptions) {
    this.#options = options;
    this.name = options.name;
  }

  /** Call `route` with `input`; resolves with its decoded answer, or throws a HearthError that names the worker. */
  async call<R extends WorkerRouteName>(route: R, input: RouteInput<R>, options: CallOptions = {}): Promise<RouteAnswer<R>> {
    const spec = WORKER_ROUTES[route];
    const { path, rest } = fillPath(spec.path, input as Record<string, unknown>);
    const what = `${spec.method} ${spec.path}`;
    let answer: HttpAnswer;
    try {
      answer = await httpRequest(this.url(path), {
        method: spec.method,
        json: Object.keys(rest).length > 0 || spec.method === 'POST' || spec.method === 'PATCH' ? rest : undefined,
        agent: this.#options.agent,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        idleTimeoutMs: options.idleTimeoutMs !== undefined ? options.idleTimeoutMs : this.#options.idleTimeoutMs,
      });
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason ?? cause;
      throw this.unreachable(what, cause);
    }
    if (!answer.ok) throw this.refused(what, answer.status, answerJson(answer), answer.text);
    const body = spec.status === 204 ? {} : answerJson(answer);
    try {
      return (spec.answer as Decoder<unknown>)(body) as RouteAnswer<R>;
    } catch (error) {
      if (error instanceof DecodeError) throw this.incompatible(what, error);
      throw error;
    }
  }

  /** A URL on this worker's control API. */
  url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.#options.baseUrl);
  }

  /** Start a raw request for an entry's bytes (`PUT` an upload, `GET` its verified bytes); the caller writes and reads it. */
  entryRequest(method: 'GET' | 'PUT', hash: string, options: { headers?: http.OutgoingHttpHeaders; signal?: AbortSignal; idleTimeoutMs?: number } = {}): http.ClientRequest {
    const { path } = fillPath(ENTRY_BYTES_PATH, { hash });
    const request = http.request(this.url(path), { method, headers: options.headers, signal: options.signal, agent: this.#options.agent ?? false });
    if (options.idleTimeoutMs !== undefined) request.setTimeout(options.idleTimeoutMs, () => request.destroy(new Error(`nothing came for ${options.idleTimeoutMs! / 1000} s`)));
    return request;
  }

  /** The error for a call that got no answer. */
  unreachable(what: string, cause: unknown): HearthError {
    return new HearthError('peer-unreachable', `${this.name} did not answer ${what} (${(cause as Error).message})${this.#options.unreachableHint ? `: ${this.#options.unreachableHint}` : ''}`, { cause });
  }

  /** The error for a refusal (any non-2xx answer), with what the worker said. */
  refused(what: string, status: number, json: unknown, text = ''): WorkerRefusal {
    const reply = tryDecode(refusal, json) ?? {};
    const said = reply.error ?? text.slice(0, 300);
    return new WorkerRefusal(`${this.name} refused ${what} (HTTP ${status}): ${said || 'no reason given'}`, status, reply);
  }

  /** The error for an answer of the wrong shape: the peer speaks another version of this API. */
  incompatible(what: string, error: DecodeError): HearthError {
    return new HearthError('incompatible-peer', `${this.name} answered ${what} with something this Hearth does not understand (${error.message}): it runs an incompatible Hearth version; update Hearth on both machines.`, { cause: error });
  }
}

/** Read a raw answer's JSON body (a PUT's outcome), at most `maxChars`. */
export async function readAnswerJson(response: http.IncomingMessage): Promise<unknown> {
  const body = await readText(response);
  try {
    return body ? JSON.parse(body) : null;
  } catch {
    return null;
  }
}

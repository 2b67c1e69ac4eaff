// One request to the leased llama-server, its answer written to the client as it comes (a
// stream chunk by chunk, never buffered) by the route's writer. When the backend goes away
// mid-answer, a stream ends with an error in the client's API shape, not with a reset socket.
import http from 'node:http';
import { isHearthError } from '../../base/errors.js';
import type { BackendLease } from '../model-slot.js';
import { failedError } from './unavailable.js';
import { sendGatewayError, streamErrorChunk, type ApiDialect } from './error-replies.js';
import { GatewayError } from './gateway-error.js';
import type { RequestBody } from './request-body.js';

/** What goes to llama-server. */
export interface BackendRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: RequestBody;
  /** The API the client speaks: the shape of the errors Hearth sends it. */
  dialect: ApiDialect;
}

/**
 * Writes llama-server's answer to the client as the route's API wants it; resolves once all of
 * it is written (the exchange ends the reply if the writer did not), throws a GatewayError to
 * answer with that instead.
 */
export type AnswerWriter = (answer: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

// Content types of answers that are streams: one cut short ends with an error chunk.
const STREAMS = /^(text\/event-stream|application\/x-ndjson)\b/;

/** Send `request` to the leased llama-server and let `write` answer the client; resolves when the exchange is over. */
export function exchangeWithBackend(res: http.ServerResponse, lease: BackendLease, request: BackendRequest, write: AnswerWriter): Promise<void> {
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  return new Promise<void>((resolve) => {
    let over = false;
    const finish = (): void => {
      if (over) return;
      over = true;
      lease.signal.removeEventListener('abort', onAbort);
      lease.release();
      resolve();
    };
    let ending = false;
    // The first thing to go wrong decides how the reply ends; later ones only echo it.
    const endWith = (error: GatewayError): void => {
      if (ending) return;
      ending = true;
      upstream.destroy();
      if (!res.headersSent) sendGatewayError(res, request.dialect, error);
      else if (STREAMS.test(String(res.getHeader('content-type') ?? '')) && !res.writableEnded) res.end(streamErrorChunk(request.dialect, error));
      else res.destroy(); // half a JSON body cannot be mended
      finish();
    };
    const unloaded = (): GatewayError | null => {
      const reason: unknown = lease.signal.reason;
      return isHearthError(reason) && reason.code === 'model-unloaded' ? new GatewayError(503, reason.message, 'model_unloaded') : null;
    };
    // Unless Hearth unloaded it on purpose, the process's end says best why the backend went
    // away: its reason and its last log lines.
    const endWithBackendGone = (): void => {
      if (ending) return;
      void lease.failure().then((failure) => {
        endWith(unloaded() ?? (failure ? failedError(lease.modelId, failure) : new GatewayError(502, `The connection to the model "${lease.modelId}" broke; retry.`, 'backend_error')));
      });
    };
    const onAbort = (): void => {
      const error = unloaded();
      if (error) endWith(error);
      else endWithBackendGone();
    };

    const upstream = http.request(new URL(request.path, lease.url), {
      method: request.method,
      // A fresh loopback connection per request: a pooled one that llama-server has just closed
      // would fail the next request, and no connection outlives the backend it went to.
      agent: false,
      headers: {
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        Accept: request.body?.stream ? 'text/event-stream' : 'application/json',
        // The client's own key was Hearth's; llama-server wants its per-load key.
        Authorization: `Bearer ${lease.apiKey}`,
      },
    });
    upstream.on('response', (answer) => {
      answer.on('error', () => undefined); // its 'close' below says what happened
      if (ending) return void answer.destroy();
      answer.on('close', () => {
        if (!ending && !answer.complete) endWithBackendGone();
      });
      write(answer, res).then(
        () => {
          if (ending || !answer.complete) return;
          if (!res.writableEnded) res.end();
          finish();
        },
        (error: unknown) => {
          if (error instanceof GatewayError) return endWith(error);
          // An answer cut off fails its reader too: the backend's end explains it better.
          if (!answer.complete) return endWithBackendGone();
          endWith(new GatewayError(502, `llama-server's answer could not be read: ${(error as Error).message}`, 'backend_error'));
        },
      );
    });
    upstream.on('error', () => endWithBackendGone());
    lease.signal.addEventListener('abort', onAbort, { once: true });
    if (lease.signal.aborted) return onAbort();
    // The client hung up: dropping the connection makes llama-server stop generating for it.
    res.on('close', () => {
      if (!ending && !res.writableFinished) {
        ending = true; // nobody is left to tell
        upstream.destroy();
      }
      finish();
    });
    upstream.end(payload);
  });
}

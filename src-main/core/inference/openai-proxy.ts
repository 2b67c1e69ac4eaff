// Forwards one completion request to llama-server's own OpenAI endpoint and streams its answer
// back as it comes (server-sent events chunk by chunk, never buffered). When the backend goes
// away mid-answer, a stream ends with an error event the SDKs raise, not with a reset socket.
import http from 'node:http';
import { isHearthError } from '../base/errors.js';
import type { BackendLease } from './model-slot.js';
import type { CompletionBody } from './openai-body.js';
import { OpenAiError, sendOpenAiError, sseErrorEvent } from './openai-errors.js';
import { failedError } from './unavailable.js';

// The answer headers worth passing on; hop-by-hop and llama-server's CORS headers are not.
const PASSED_HEADERS = ['content-type', 'content-length', 'cache-control'];

/** Send `body` to `path` on the leased llama-server and relay its answer to `res`; resolves when the exchange is over. */
export function forwardCompletion(res: http.ServerResponse, lease: BackendLease, path: string, body: CompletionBody): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
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
    const endWith = (error: OpenAiError): void => {
      if (ending) return;
      ending = true;
      upstream.destroy();
      if (!res.headersSent) sendOpenAiError(res, error);
      else if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream') && !res.writableEnded) res.end(sseErrorEvent(error));
      else res.destroy(); // half a JSON body cannot be mended
      finish();
    };
    const unloaded = (): OpenAiError | null => {
      const reason: unknown = lease.signal.reason;
      return isHearthError(reason) && reason.code === 'model-unloaded' ? new OpenAiError(503, reason.message, 'model_unloaded') : null;
    };
    // Unless Hearth unloaded it on purpose, the process's end says best why the backend went
    // away: its reason and its last log lines.
    const endWithBackendGone = (): void => {
      if (ending) return;
      void lease.failure().then((failure) => {
        endWith(unloaded() ?? (failure ? failedError(lease.modelId, failure) : new OpenAiError(502, `The connection to the model "${lease.modelId}" broke; retry.`, 'backend_error')));
      });
    };
    const onAbort = (): void => {
      const error = unloaded();
      if (error) endWith(error);
      else endWithBackendGone();
    };

    const upstream = http.request(new URL(path, lease.url), {
      method: 'POST',
      // A fresh loopback connection per request: a pooled one that llama-server has just closed
      // would fail the next request, and no connection outlives the backend it went to.
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': payload.length,
        Accept: body.stream ? 'text/event-stream' : 'application/json',
        // The client's own Authorization was Hearth's key; llama-server wants its per-load key.
        Authorization: `Bearer ${lease.apiKey}`,
      },
    });
    upstream.on('response', (answer) => {
      answer.on('error', () => undefined); // its 'close' below says what happened
      if (ending) return void answer.destroy();
      res.statusCode = answer.statusCode ?? 502;
      for (const name of PASSED_HEADERS) {
        const value = answer.headers[name];
        if (value !== undefined) res.setHeader(name, value);
      }
      // Send the status line now, so a client sees the stream open before the first token.
      res.flushHeaders();
      answer.pipe(res, { end: false });
      answer.on('close', () => {
        if (ending) return;
        if (!answer.complete) return endWithBackendGone();
        res.end();
        finish();
      });
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

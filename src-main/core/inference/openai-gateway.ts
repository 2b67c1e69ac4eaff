// Hearth's OpenAI-compatible API: /v1/models, /v1/chat/completions and /v1/completions in front
// of whatever model the slot holds. It outlives every llama-server behind it: no model, a load
// in progress or a crashed engine are answers (503 with the reason), never a dead port.
import http from 'node:http';
import { HearthError } from '../base/errors.js';
import { isAllowedHost, urlHost } from '../net/host-check.js';
import { sendJson } from '../net/http-replies.js';
import { listen } from '../net/listen.js';
import { hasApiKey, keyRequiredFor } from './gateway-auth.js';
import type { ModelSlot } from './model-slot.js';
import { readCompletionBody, type CompletionBody, type CompletionRoute } from './openai-body.js';
import { OpenAiError, sendOpenAiError } from './openai-errors.js';
import { forwardCompletion } from './openai-proxy.js';
import { unavailableError } from './unavailable.js';

/** How to start the gateway. */
/** The OpenAI-compatible API's default port (`hearth load`, the app and `hearth serve`). */
export const DEFAULT_API_PORT = 7437;

export interface OpenAiGatewayOptions {
  slot: ModelSlot;
  /** Interface to listen on; loopback unless the user exposes the API to the LAN. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The key clients send as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Whether every request must carry the key; by default, when `host` is not loopback. */
  requireKey?: boolean;
  maxBodyBytes?: number;
}

/** A running gateway. */
export interface OpenAiGateway {
  /** The base URL clients use, e.g. `http://127.0.0.1:8080/v1`. */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

const COMPLETION_ROUTES: Record<string, CompletionRoute> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completion' };
const STARTED = Math.floor(Date.now() / 1000);

/** Start the OpenAI-compatible gateway; resolves once listening. */
export async function startOpenAiGateway(options: OpenAiGatewayOptions): Promise<OpenAiGateway> {
  const host = options.host ?? '127.0.0.1';
  const apiKey = options.apiKey || undefined;
  const requireKey = options.requireKey ?? keyRequiredFor(host);
  if (requireKey && !apiKey) {
    throw new HearthError('api-key-required', `Serving the OpenAI API on ${host} would let anyone on the network use your GPUs: set an API key, or listen on 127.0.0.1.`);
  }
  const { slot } = options;
  let port = options.port;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendOpenAiError(res, new OpenAiError(500, `Internal error: ${error instanceof Error ? error.message : String(error)}`));
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (apiKey) {
      if (!hasApiKey(req.headers.authorization, apiKey)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return reject(res, new OpenAiError(401, 'Missing or wrong API key: send "Authorization: Bearer <key>" with the key shown in Hearth\'s settings.', 'invalid_api_key'));
      }
    } else if (!isAllowedHost(req.headers.host, { port, listenHost: host, localAddress: req.socket.localAddress })) {
      // Without a key, only a Host that DNS rebinding cannot forge may reach the API.
      return reject(res, new OpenAiError(403, 'Host not allowed: use 127.0.0.1 or localhost in the API address.', 'host_not_allowed'));
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = COMPLETION_ROUTES[path];
    if (route) {
      if (req.method !== 'POST') return wrongMethod(res, 'POST', path);
      return complete(req, res, path, route);
    }
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET') return wrongMethod(res, 'GET', path);
      return listModels(res, path === '/v1/models' ? null : safeDecode(path.slice('/v1/models/'.length)));
    }
    reject(res, new OpenAiError(404, `Hearth serves /v1/models, /v1/chat/completions and /v1/completions; there is no ${path}.`, 'not_found'));
  }

  async function complete(req: http.IncomingMessage, res: http.ServerResponse, path: string, route: CompletionRoute): Promise<void> {
    let body: CompletionBody;
    try {
      body = await readCompletionBody(req, route, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof OpenAiError) return reject(res, error);
      throw error;
    }
    const lease = slot.lease();
    if (!lease) {
      const status = slot.status;
      // Only an unloading slot can be "ready" without a lease, for an instant.
      const error = status.state === 'ready' ? new OpenAiError(503, 'The model is being switched: retry in a moment.', 'model_unloading') : unavailableError(status);
      if (status.state === 'loading') res.setHeader('Retry-After', '2');
      return sendOpenAiError(res, error);
    }
    // Any `model` is accepted: the slot serves one, and tools often send a fixed name of their own.
    await forwardCompletion(res, lease, path, body);
  }

  function listModels(res: http.ServerResponse, id: string | null): void {
    const status = slot.status;
    const models = status.state === 'ready' ? [{ id: status.modelId, object: 'model', created: STARTED, owned_by: 'hearth' }] : [];
    if (id === null) return sendJson(res, 200, { object: 'list', data: models });
    const model = models.find((m) => m.id === id);
    if (model) return sendJson(res, 200, model);
    reject(res, new OpenAiError(404, `No model "${id}" is loaded${models[0] ? `: this server has "${models[0].id}"` : ''}.`, 'model_not_found', 'model'));
  }

  try {
    port = await listen(server, host, options.port, 'for the API');
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    baseUrl: `http://${urlHost(host)}:${port}/v1`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function reject(res: http.ServerResponse, error: OpenAiError): void {
  // The rest of an oversized or unread body is still on the wire: this connection cannot carry another request.
  if (error.status === 413 || error.status === 415 || error.status === 401) res.setHeader('Connection', 'close');
  sendOpenAiError(res, error);
}

function wrongMethod(res: http.ServerResponse, allowed: string, path: string): void {
  res.setHeader('Allow', allowed);
  reject(res, new OpenAiError(405, `Use ${allowed} for ${path}.`, 'method_not_allowed'));
}


// Hearth's API gateway in front of whatever model the slot holds: OpenAI's API and the rest of
// llama-server's own (gateway/llama-routes.ts), Anthropic's Messages API, and a subset of
// Ollama's (gateway/ollama-api.ts), all under one set of rules: loopback by default, a key
// off loopback, Host checks, body limits. It outlives every llama-server behind it: no model, a
// load in progress or a crashed engine are answers (503 with the reason), never a dead port.
import http from 'node:http';
import { HearthError } from '../base/errors.js';
import { isAllowedHost, urlHost } from '../net/host-check.js';
import { sendJson } from '../net/http-replies.js';
import { listen } from '../net/listen.js';
import { exchangeWithBackend } from './gateway/backend-exchange.js';
import { dialectOf, sendGatewayError, sendWrongMethod, type ApiDialect } from './gateway/error-replies.js';
import { hasApiKey, keyRequiredFor } from './gateway/gateway-auth.js';
import { GatewayError } from './gateway/gateway-error.js';
import { leaseOrReply } from './gateway/lease-or-reply.js';
import { PASSED_ROUTES, WITHHELD_ROUTES, type PassedRoute } from './gateway/llama-routes.js';
import { startOllamaApi } from './gateway/ollama/ollama-api.js';
import { relayAnswer } from './gateway/relay-answer.js';
import { readRequestBody, type RequestBody } from './gateway/request-body.js';
import type { ModelSlot } from './model-slot.js';

/** The API's default port (`hearth load`, the app and `hearth serve`). */
export const DEFAULT_API_PORT = 7437;

/** How to start the gateway. */
export interface OpenAiGatewayOptions {
  slot: ModelSlot;
  /** Interface to listen on; loopback unless the user exposes the API to the LAN. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The key clients send as `Authorization: Bearer <key>` (or `x-api-key: <key>`). */
  apiKey?: string;
  /** Whether every request must carry the key; by default, when `host` is not loopback. */
  requireKey?: boolean;
  maxBodyBytes?: number;
}

/** A running gateway. */
export interface OpenAiGateway {
  /** The base URL OpenAI clients use, e.g. `http://127.0.0.1:7437/v1`; Anthropic's and Ollama's clients take it without `/v1`. */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

const STARTED = Math.floor(Date.now() / 1000);

/** Start the gateway; resolves once listening. */
export async function startOpenAiGateway(options: OpenAiGatewayOptions): Promise<OpenAiGateway> {
  const host = options.host ?? '127.0.0.1';
  const apiKey = options.apiKey || undefined;
  const requireKey = options.requireKey ?? keyRequiredFor(host);
  if (requireKey && !apiKey) {
    throw new HearthError('api-key-required', `Serving the API on ${host} would let anyone on the network use your GPUs: set an API key, or listen on 127.0.0.1.`);
  }
  const { slot } = options;
  const ollama = startOllamaApi({ slot, maxBodyBytes: options.maxBodyBytes });
  let port = options.port;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendGatewayError(res, dialectOf(pathOf(req)), new GatewayError(500, `Internal error: ${error instanceof Error ? error.message : String(error)}`));
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const path = pathOf(req);
    const dialect = dialectOf(path);
    if (apiKey) {
      if (!hasApiKey(req.headers, apiKey)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return sendGatewayError(res, dialect, new GatewayError(401, 'Missing or wrong API key: send "Authorization: Bearer <key>" (or "x-api-key: <key>") with the key shown in Hearth.', 'invalid_api_key'));
      }
    } else if (!isAllowedHost(req.headers.host, { port, listenHost: host, localAddress: req.socket.localAddress })) {
      // Without a key, only a Host that DNS rebinding cannot forge may reach the API.
      return sendGatewayError(res, dialect, new GatewayError(403, 'Host not allowed: use 127.0.0.1 or localhost in the API address.', 'host_not_allowed'));
    }
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET') return sendWrongMethod(res, dialect, 'GET', path);
      return listModels(res, path === '/v1/models' ? null : safeDecode(path.slice('/v1/models/'.length)));
    }
    if (dialect === 'ollama') return ollama.handle(req, res, path);
    const route = PASSED_ROUTES[path];
    if (route) return pass(req, res, path, route, dialect);
    const why = WITHHELD_ROUTES[path];
    sendGatewayError(res, dialect, new GatewayError(404, why ? `Hearth does not pass ${path} on: ${why}.` : `There is no ${path}: Hearth serves OpenAI's API under /v1, Anthropic's /v1/messages, Ollama's under /api, and llama-server's own routes (see Hearth's README).`, 'not_found'));
  }

  async function pass(req: http.IncomingMessage, res: http.ServerResponse, path: string, route: PassedRoute, dialect: ApiDialect): Promise<void> {
    if (req.method !== route.method) return sendWrongMethod(res, dialect, route.method, path);
    let body: RequestBody | undefined;
    if (route.method === 'POST') {
      try {
        body = await readRequestBody(req, { maxBytes: options.maxBodyBytes });
        route.check?.(body);
      } catch (error) {
        if (error instanceof GatewayError) return sendGatewayError(res, dialect, error);
        throw error;
      }
    }
    const lease = leaseOrReply(slot, res, dialect);
    if (!lease) return;
    // Any `model` is accepted: the slot serves one, and tools often send a fixed name of their own.
    await exchangeWithBackend(res, lease, { method: route.method, path, body, dialect }, relayAnswer(dialect, lease.modelId, route.feature));
  }

  function listModels(res: http.ServerResponse, id: string | null): void {
    const status = slot.status;
    const models = status.state === 'ready' ? [{ id: status.modelId, object: 'model', created: STARTED, owned_by: 'hearth' }] : [];
    if (id === null) return sendJson(res, 200, { object: 'list', data: models });
    const model = models.find((m) => m.id === id);
    if (model) return sendJson(res, 200, model);
    sendGatewayError(res, 'openai', new GatewayError(404, `No model "${id}" is loaded${models[0] ? `: this server has "${models[0].id}"` : ''}.`, 'model_not_found', 'model'));
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

function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

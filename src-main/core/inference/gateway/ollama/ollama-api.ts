// The subset of Ollama's API that front ends speak first (https://docs.ollama.com/api), mapped
// onto the model Hearth serves: version, tags, show and ps describe it; chat and generate are
// translated to llama-server's chat and completion routes, streaming as NDJSON.
import type http from 'node:http';
import { sendJson } from '../../../net/http-replies.js';
import type { ModelSlot } from '../../model-slot.js';
import { exchangeWithBackend } from '../backend-exchange.js';
import { checkCommonFields } from '../body-checks.js';
import { sendGatewayError, sendWrongMethod } from '../error-replies.js';
import { GatewayError } from '../gateway-error.js';
import { leaseOrReply } from '../lease-or-reply.js';
import { readRequestBody, type RequestBody } from '../request-body.js';
import { readModelFacts, type ModelFacts } from './model-facts.js';
import { OLLAMA_API_VERSION, ollamaName, psEntry, showAnswer, tagsEntry } from './ollama-listing.js';
import { loadedAnswer, ollamaReply, type OllamaRoute } from './ollama-reply.js';
import { chatCall, generateCall } from './ollama-request.js';

/** Ollama routes Hearth does not serve, and why. */
const WITHHELD: Readonly<Record<string, string>> = {
  '/api/pull': 'Hearth serves the model loaded in it: load a GGUF file in Hearth instead of pulling one',
  '/api/push': 'Hearth serves the model loaded in it and has no registry to push to',
  '/api/create': 'models are loaded in Hearth from GGUF files, not created through the API',
  '/api/copy': 'models are loaded in Hearth from GGUF files, not copied through the API',
  '/api/delete': 'models are unloaded in Hearth; it deletes no files through the API',
  '/api/embed': 'llama.cpp serves embeddings only from a model loaded for them alone, which Hearth does not do',
  '/api/embeddings': 'llama.cpp serves embeddings only from a model loaded for them alone, which Hearth does not do',
};

/** The Ollama-compatible routes of a gateway. */
export interface OllamaApi {
  /** Answer one request under /api/ (already let through by the gateway's key and Host checks). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void>;
}

/** Ollama's routes over `slot`. */
export function startOllamaApi(options: { slot: ModelSlot; maxBodyBytes?: number }): OllamaApi {
  const { slot } = options;
  // Read once per llama-server: front ends poll /api/tags and /api/ps.
  let facts: { url: string; read: Promise<ModelFacts> } | null = null;

  /** The loaded model's facts, or null when none is ready (then nothing is listed). */
  async function loadedFacts(): Promise<ModelFacts | null> {
    const lease = slot.lease();
    if (!lease) return null;
    try {
      if (facts?.url !== lease.url) facts = { url: lease.url, read: readModelFacts(lease) };
      const read = facts.read;
      read.catch(() => (facts = null)); // the next request tries again
      return await read;
    } finally {
      lease.release();
    }
  }

  async function body(req: http.IncomingMessage): Promise<RequestBody> {
    const read = await readRequestBody(req, { maxBytes: options.maxBodyBytes, anyTypeWithoutOrigin: true });
    checkCommonFields(read);
    return read;
  }

  async function generate(req: http.IncomingMessage, res: http.ServerResponse, route: OllamaRoute): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const request = await body(req);
    const model = typeof request.model === 'string' && request.model !== '' ? request.model : ollamaName(slot.status.state === 'ready' ? slot.status.modelId : 'hearth');
    // Ollama's way to load a model ahead of use: no messages, or no prompt.
    const loadOnly = route === 'chat' ? Array.isArray(request.messages) && request.messages.length === 0 : request.prompt === undefined || request.prompt === '';
    const call = loadOnly ? null : route === 'chat' ? chatCall(request) : generateCall(request);
    const lease = leaseOrReply(slot, res, 'ollama');
    if (!lease) return;
    if (!call) {
      lease.release();
      return sendJson(res, 200, loadedAnswer({ route, model }));
    }
    await exchangeWithBackend(res, lease, { method: 'POST', path: call.path, body: call.body, dialect: 'ollama' }, ollamaReply({ route, model, modelId: lease.modelId, stream: call.stream, startedAt }));
  }

  async function show(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const request = await body(req);
    const asked = typeof request.model === 'string' ? request.model : typeof request.name === 'string' ? request.name : '';
    const loaded = await loadedFacts();
    if (!loaded) return sendGatewayError(res, 'ollama', new GatewayError(404, `model '${asked}' not found: no model is loaded in Hearth.`, 'model_not_found'));
    sendJson(res, 200, showAnswer(loaded));
  }

  const routes: Record<string, { method: 'GET' | 'POST'; run: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> }> = {
    '/api/version': { method: 'GET', run: async (_req, res) => sendJson(res, 200, { version: OLLAMA_API_VERSION }) },
    '/api/tags': { method: 'GET', run: async (_req, res) => sendJson(res, 200, { models: listed(await loadedFacts(), tagsEntry) }) },
    '/api/ps': { method: 'GET', run: async (_req, res) => sendJson(res, 200, { models: listed(await loadedFacts(), (loaded) => psEntry(loaded)) }) },
    '/api/show': { method: 'POST', run: show },
    '/api/chat': { method: 'POST', run: (req, res) => generate(req, res, 'chat') },
    '/api/generate': { method: 'POST', run: (req, res) => generate(req, res, 'generate') },
  };

  return {
    async handle(req, res, path) {
      const route = routes[path];
      if (!route) {
        const why = WITHHELD[path];
        return sendGatewayError(res, 'ollama', new GatewayError(why ? 501 : 404, why ? `Hearth does not serve ${path}: ${why}.` : `There is no ${path}: Hearth serves Ollama's /api/version, /api/tags, /api/show, /api/ps, /api/chat and /api/generate.`, 'not_found'));
      }
      if (req.method !== route.method) return sendWrongMethod(res, 'ollama', route.method, path);
      try {
        await route.run(req, res);
      } catch (error) {
        if (!(error instanceof GatewayError) || res.headersSent) throw error;
        sendGatewayError(res, 'ollama', error);
      }
    },
  };
}

function listed(facts: ModelFacts | null, entry: (facts: ModelFacts) => Record<string, unknown>): Record<string, unknown>[] {
  return facts ? [entry(facts)] : [];
}

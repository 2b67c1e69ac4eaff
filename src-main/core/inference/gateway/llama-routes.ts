// The llama-server routes the gateway passes on, as they are in this release
// (tools/server/server.cpp, the ctx_http.get/post calls), and those it deliberately does not.
import { checkAnyPrompt, checkCommonFields, checkMessages, checkPrompt, type BodyCheck } from './body-checks.js';

/** What the loaded model must have been loaded for: llama-server refuses the route otherwise (501). */
export type ModelFeature = 'embeddings' | 'reranking' | 'infill';

/** A route passed on to llama-server as it is. */
export interface PassedRoute {
  method: 'GET' | 'POST';
  /** Checks a POST's body beyond its being a JSON object. */
  check?: BodyCheck;
  /** Whose refusal (501) Hearth words itself: llama-server's tells its own user to restart it with a flag. */
  feature?: ModelFeature;
}

const post = (check: BodyCheck = checkCommonFields, feature?: ModelFeature): PassedRoute => ({ method: 'POST', check, feature });
const get: PassedRoute = { method: 'GET' };

/** Every route passed on, by path. `/v1/models` is Hearth's own (it lists the model before and after llama-server runs). */
export const PASSED_ROUTES: Readonly<Record<string, PassedRoute>> = {
  // OpenAI's API.
  '/v1/chat/completions': post(checkMessages),
  '/v1/completions': post(checkPrompt),
  '/v1/responses': post(),
  '/v1/embeddings': post(checkCommonFields, 'embeddings'),
  '/v1/chat/completions/input_tokens': post(checkMessages),
  '/v1/responses/input_tokens': post(),
  // Anthropic's Messages API (llama-server translates it itself).
  '/v1/messages': post(checkMessages),
  '/v1/messages/count_tokens': post(checkMessages),
  // llama-server's own API, and its aliases of the above.
  '/chat/completions': post(checkMessages),
  '/completion': post(checkAnyPrompt),
  '/completions': post(checkAnyPrompt),
  '/responses': post(),
  '/embedding': post(checkCommonFields, 'embeddings'),
  '/embeddings': post(checkCommonFields, 'embeddings'),
  '/rerank': post(checkCommonFields, 'reranking'),
  '/reranking': post(checkCommonFields, 'reranking'),
  '/v1/rerank': post(checkCommonFields, 'reranking'),
  '/v1/reranking': post(checkCommonFields, 'reranking'),
  '/infill': post(checkCommonFields, 'infill'),
  '/tokenize': post(),
  '/detokenize': post(),
  '/apply-template': post(checkMessages),
  '/chat/completions/input_tokens': post(checkMessages),
  '/responses/input_tokens': post(),
  '/props': get,
  '/health': get,
  '/v1/health': get,
  '/metrics': get,
};

/**
 * llama-server routes Hearth does not pass on, and why: the answer a client gets instead (404),
 * and the list in the README.
 */
export const WITHHELD_ROUTES: Readonly<Record<string, string>> = {
  '/models': 'Hearth lists the model at /v1/models (or Ollama\'s /api/tags); loading and unloading models is done in Hearth, not through the API',
  '/models/load': 'models are loaded in Hearth (the app, or `hearth load`), which plans the split across the cluster; the API cannot start a load',
  '/models/unload': 'models are unloaded in Hearth (the app, or by stopping `hearth load`)',
  '/slots': 'slots hold other clients\' prompts and can be saved to and restored from files on this machine',
  '/lora-adapters': 'LoRA scales are global to the loaded model: one client would change every other client\'s answers',
  '/v1/audio/transcriptions': 'Hearth loads no audio projector (--mmproj), so llama-server cannot transcribe',
  '/audio/transcriptions': 'Hearth loads no audio projector (--mmproj), so llama-server cannot transcribe',
  '/v1/chat/completions/control': 'it steers another request\'s running generation, for llama.cpp\'s web UI; Hearth has its own chat',
  '/v1/stream': 'resumable streams are for llama.cpp\'s web UI; Hearth has its own chat',
  '/v1/streams/lookup': 'resumable streams are for llama.cpp\'s web UI; Hearth has its own chat',
  '/cors-proxy': 'llama-server\'s CORS proxy would let the API fetch any URL for its caller',
  '/tools': 'llama-server\'s built-in tools run on this machine for whoever calls the API',
};

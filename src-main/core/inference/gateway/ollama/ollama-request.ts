// Ollama's /api/chat and /api/generate requests as the OpenAI-shaped requests llama-server
// serves (https://docs.ollama.com/api, the ChatRequest, GenerateRequest and Options shapes).
import { invalid } from '../body-checks.js';
import { GatewayError } from '../gateway-error.js';
import type { RequestBody } from '../request-body.js';

/** Where the request goes on llama-server, and with what. */
export interface LlamaCall {
  path: '/v1/chat/completions' | '/v1/completions';
  body: RequestBody;
  /** Ollama streams unless told `"stream": false`. */
  stream: boolean;
}

// Ollama's sampling options under llama-server's names; load-time ones (num_ctx, num_gpu,
// num_thread…) are Hearth's to set when it loads the model, and are ignored here.
const OPTION_NAMES: Readonly<Record<string, string>> = {
  temperature: 'temperature',
  top_k: 'top_k',
  top_p: 'top_p',
  min_p: 'min_p',
  typical_p: 'typical_p',
  seed: 'seed',
  stop: 'stop',
  repeat_penalty: 'repeat_penalty',
  repeat_last_n: 'repeat_last_n',
  presence_penalty: 'presence_penalty',
  frequency_penalty: 'frequency_penalty',
  mirostat: 'mirostat',
  mirostat_tau: 'mirostat_tau',
  mirostat_eta: 'mirostat_eta',
  num_keep: 'n_keep',
  // llama.cpp's own, which Ollama's clients can pass as options too.
  ignore_eos: 'ignore_eos',
  cache_prompt: 'cache_prompt',
  top_n_sigma: 'top_n_sigma',
  xtc_probability: 'xtc_probability',
  xtc_threshold: 'xtc_threshold',
  dry_multiplier: 'dry_multiplier',
  dry_base: 'dry_base',
  dry_allowed_length: 'dry_allowed_length',
  dry_penalty_last_n: 'dry_penalty_last_n',
};

/** An /api/chat request as a chat completion. */
export function chatCall(request: RequestBody): LlamaCall {
  const { messages } = request;
  if (!Array.isArray(messages)) throw invalid('messages', 'must be an array of messages');
  const stream = request.stream !== false;
  const body: RequestBody = { messages: messages.map((message, index) => chatMessage(message, index)), stream, ...generationFields(request) };
  if (Array.isArray(request.tools) && request.tools.length > 0) body.tools = request.tools;
  return { path: '/v1/chat/completions', body, stream };
}

/** An /api/generate request: the model's chat template around the prompt, or with `raw` the prompt alone as a completion. */
export function generateCall(request: RequestBody): LlamaCall {
  const { prompt, system } = request;
  if (typeof prompt !== 'string') throw invalid('prompt', 'must be a string');
  if (typeof request.suffix === 'string' && request.suffix !== '') {
    throw new GatewayError(400, 'Fill-in-the-middle ("suffix") is served at /infill, with "input_prefix" and "input_suffix": Hearth\'s /api/generate does not take a suffix.', 'invalid_value', 'suffix');
  }
  if (typeof request.template === 'string' && request.template !== '') {
    throw new GatewayError(400, 'A "template" of Ollama\'s own cannot be used: the model answers with the chat template in its GGUF file (or send "raw": true with the whole prompt).', 'invalid_value', 'template');
  }
  refuseImages(request.images, 'images');
  const stream = request.stream !== false;
  if (request.raw === true) return { path: '/v1/completions', body: { prompt, stream, ...generationFields(request) }, stream };
  const messages = [...(typeof system === 'string' && system !== '' ? [{ role: 'system', content: system }] : []), { role: 'user', content: prompt }];
  return { path: '/v1/chat/completions', body: { messages, stream, ...generationFields(request) }, stream };
}

/** Sampling, length and output format, shared by both routes. */
function generationFields(request: RequestBody): RequestBody {
  const fields: RequestBody = {};
  const options = request.options;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options', 'must be an object');
    for (const [name, value] of Object.entries(options)) {
      const llamaName = OPTION_NAMES[name];
      if (llamaName) fields[llamaName] = value;
    }
    // -1 (until the end of the sequence) and -2 (until the context is full) are llama-server's default.
    const { num_predict: length } = options as { num_predict?: unknown };
    if (typeof length === 'number' && length >= 0) fields.max_tokens = length;
  }
  if (request.format === 'json') fields.response_format = { type: 'json_object' };
  else if (typeof request.format === 'object' && request.format !== null) fields.response_format = { type: 'json_schema', json_schema: { schema: request.format } };
  // Ollama's `think` turns a reasoning model's thinking on or off (its levels count as on).
  if (request.think !== undefined && request.think !== null) fields.chat_template_kwargs = { enable_thinking: request.think !== false };
  return fields;
}

/** One Ollama message as an OpenAI one: tool calls carry their arguments as a JSON string there. */
function chatMessage(message: unknown, index: number): Record<string, unknown> {
  if (typeof message !== 'object' || message === null || typeof (message as { role?: unknown }).role !== 'string') {
    throw invalid(`messages[${index}]`, 'must be an object with a "role" string');
  }
  const { role, content, images, tool_calls: toolCalls, tool_name: toolName, thinking } = message as Record<string, unknown>;
  refuseImages(images, `messages[${index}].images`);
  const out: Record<string, unknown> = { role, content: typeof content === 'string' ? content : '' };
  if (typeof thinking === 'string' && thinking !== '') out.reasoning_content = thinking;
  if (typeof toolName === 'string') out.name = toolName;
  if (Array.isArray(toolCalls)) {
    out.tool_calls = toolCalls.map((call: { function?: { name?: unknown; arguments?: unknown } }, callIndex) => ({
      id: `call_${index}_${callIndex}`,
      type: 'function',
      function: { name: call.function?.name, arguments: JSON.stringify(call.function?.arguments ?? {}) },
    }));
  }
  return out;
}

function refuseImages(images: unknown, param: string): void {
  if (Array.isArray(images) && images.length > 0) {
    throw new GatewayError(400, 'Hearth loads models without a vision projector (--mmproj), so they cannot see images: send text only.', 'invalid_value', param);
  }
}

import { describe, expect, it } from 'vitest';
import { failureReason } from '../../../src-main/core/inference/failure-reason.js';
import { modelIdFor } from '../../../src-main/core/inference/model-id.js';
import { checkMessages, checkPrompt } from '../../../src-main/core/inference/gateway/body-checks.js';
import { errorBody } from '../../../src-main/core/inference/gateway/error-replies.js';
import { GatewayError } from '../../../src-main/core/inference/gateway/gateway-error.js';
import type { RequestBody } from '../../../src-main/core/inference/gateway/request-body.js';

const CHECKS = { chat: checkMessages, completion: checkPrompt };

function rejection(body: object, route: keyof typeof CHECKS): GatewayError {
  try {
    CHECKS[route](body as RequestBody);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('request body checks', () => {
  it('pass good bodies, extra llama.cpp fields included', () => {
    expect(() => checkMessages({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true, top_k: 1 })).not.toThrow();
    for (const prompt of ['hi', ['a', 'b'], [1, 2, 3], [[1, 2]]]) expect(() => checkPrompt({ prompt })).not.toThrow();
  });

  it.each([
    [{ messages: [] }, 'chat', 'messages', 'non-empty array'],
    [{ messages: [{ content: 'no role' }] }, 'chat', 'messages[0]', '"role"'],
    [{ messages: [{ role: 'user' }], stream: 'yes' }, 'chat', 'stream', 'true or false'],
    [{ messages: [{ role: 'user' }], model: 3 }, 'chat', 'model', 'string'],
    [{}, 'completion', 'prompt', 'string or an array'],
    [{ prompt: [] }, 'completion', 'prompt', 'string or an array'],
    [{ prompt: { text: 'hi' } }, 'completion', 'prompt', 'string or an array'],
  ] as const)('refuses %j for %s with a 400 naming %s', (body, route, param, words) => {
    const error = rejection(body, route);
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
    expect(error.message).toContain(words);
    expect(errorBody('openai', error)).toEqual({ error: { type: 'invalid_request_error', message: error.message, param, code: 'invalid_value' } });
    expect(errorBody('anthropic', error)).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: error.message } });
    expect(errorBody('ollama', error)).toEqual({ error: error.message });
  });
});

describe('modelIdFor', () => {
  it('is the file name without .gguf, safe for llama-server\'s --alias', () => {
    expect(modelIdFor('/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf')).toBe('Qwen2.5-7B-Instruct-Q4_K_M');
    expect(modelIdFor('C:/m/a,b.GGUF')).toBe('a_b');
    expect(modelIdFor('/m/.gguf')).toBe('model');
  });
});

describe('failureReason', () => {
  it('names how it ended and the first error line it printed', () => {
    // As this release prints a load of a non-GGUF file.
    const tail = [
      "0.00.044.836 I srv    load_model: loading model '/tmp/notgguf.gguf'",
      "0.00.045.034 E gguf_init_from_reader: invalid magic characters: 'hell', expected 'GGUF'",
      '0.00.045.136 E llama_model_load: error loading model: llama_model_loader: failed to load model from /tmp/notgguf.gguf',
      "0.00.045.214 E srv    load_model: failed to load model, '/tmp/notgguf.gguf'",
      '0.00.045.639 E srv  llama_server: exiting due to model loading error',
    ];
    expect(failureReason({ code: 1, signal: null }, tail, 'load')).toBe("llama-server exited with code 1 while loading the model: gguf_init_from_reader: invalid magic characters: 'hell', expected 'GGUF'");
    expect(failureReason({ code: null, signal: 'SIGKILL' }, ['0.00.162.520 I srv  llama_server: model loaded'], 'serve')).toBe('llama-server was killed by SIGKILL while serving');
    expect(failureReason({ code: null, signal: 'SIGABRT' }, ['ggml/src/ggml.c:1234: GGML_ASSERT(n > 0) failed', 'Aborted'], 'serve')).toBe('llama-server was killed by SIGABRT while serving: ggml/src/ggml.c:1234: GGML_ASSERT(n > 0) failed');
    expect(failureReason({ code: null, signal: null }, ['spawn error: spawn /x/llama-server ENOENT'], 'load')).toBe('llama-server could not be started: spawn error: spawn /x/llama-server ENOENT');
  });

  it('takes ggml\'s abort line as the cause: the RPC server patch 0009 names as lost', () => {
    const lost = 'ggml/src/ggml-rpc/ggml-rpc.cpp:758: RPC server 127.0.0.1:39077 closed the connection or sent a malformed answer (during SET_TENSOR_HASH)';
    const tail = ["0.00.112.206 I srv    load_model: loading model '/tmp/m.gguf'", 'hearth-rpc-client manifest /tmp/m.tsv: 12 tensors listed', lost, '0.12.054.213 '];
    expect(failureReason({ code: null, signal: 'SIGABRT' }, tail, 'load')).toBe(`llama-server was killed by SIGABRT while loading the model: ${lost}`);
  });
});

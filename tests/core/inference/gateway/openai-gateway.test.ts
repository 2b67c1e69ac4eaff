import http from 'node:http';
import { APIError, AuthenticationError } from 'openai';
import { describe, expect, it } from 'vitest';
import { isHearthError } from '../../../../src-main/core/base/errors.js';
import { startOpenAiGateway } from '../../../../src-main/core/inference/openai-gateway.js';
import { ModelSlot } from '../../../../src-main/core/inference/model-slot.js';
import { ensureTools } from '../../../../src-main/core/native/tools.js';
import { startLlamaServer } from '../../../helpers/llama-server.js';
import { syntheticModel } from '../../../helpers/models.js';
import { GREEDY, startTestGateway, TINY_ARGS } from './gateway-setup.js';

const PROMPT = 'The hearth is warm and the model is ready';

async function post(url: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<{ status: number; error: { message: string; type: string; param: string | null; code: string | null } }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, ...((await response.json()) as { error: { message: string; type: string; param: string | null; code: string | null } }) };
}

describe('OpenAI gateway with a model loaded', () => {
  it('serves the official openai client unchanged: models, chat, streaming chat, completion', async () => {
    const { slot, client } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });

    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: 'tiny', object: 'model', owned_by: 'hearth' })]);
    expect(await client.models.retrieve('tiny')).toMatchObject({ id: 'tiny' });

    // Greedy throughout: some random-weight outputs fail llama-server's own chat-output parser (a 500 it sends, passed on).
    const chat = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8, ...GREEDY });
    expect(chat.object).toBe('chat.completion');
    expect(chat.model).toBe('tiny');
    expect(chat.choices[0]!.message.role).toBe('assistant');
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8, stream: true, ...GREEDY });
    let streamed = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(2); // token by token, not one buffered blob
    expect(streamed.length).toBeGreaterThan(0);

    const completion = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, ...GREEDY });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);

    const streamedCompletion = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, stream: true, ...GREEDY });
    let text = '';
    for await (const chunk of streamedCompletion) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(completion.choices[0]!.text);
  });

  it('relays a stream as it is generated, not buffered into one reply', async () => {
    const { slot, gateway } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const body = JSON.stringify({ prompt: PROMPT, max_tokens: 64, stream: true, ...GREEDY });
    const { port } = new URL(gateway.baseUrl);
    const { headers, reads, events } = await new Promise<{ headers: http.IncomingHttpHeaders; reads: number; events: number }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions', headers: { 'Content-Type': 'application/json' } }, (res) => {
        let reads = 0;
        let text = '';
        res.on('data', (chunk: Buffer) => {
          reads++;
          text += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ headers: res.headers, reads, events: text.split('\n\n').filter((e) => e.startsWith('data: {')).length }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events).toBeGreaterThanOrEqual(64);
    // Token by token on the wire: a buffering relay would deliver a handful of large reads.
    expect(reads).toBeGreaterThan(16);
  });

  it('gives the same greedy output as llama-server on its own', async ({ onTestFinished }) => {
    const model = await syntheticModel('tiny');
    const tools = await ensureTools();
    const direct = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: TINY_ARGS });
    onTestFinished(() => direct.stop());
    const expected = await direct.complete(PROMPT, 24);
    await direct.stop();

    const { slot, client } = await startTestGateway();
    await slot.load({ model, args: TINY_ARGS });
    const body = { model: 'tiny', prompt: PROMPT, max_tokens: 24, ...GREEDY };
    const completion = await client.completions.create(body);
    expect(completion.usage?.completion_tokens).toBe(24);
    expect(completion.choices[0]!.text).toBe(expected.content);
  });
});

describe('OpenAI gateway refusals', () => {
  it('answers 503 with a clear error before any model is loaded, and lists no model', async () => {
    const { client } = await startTestGateway();
    expect((await client.models.list()).data).toEqual([]);
    const error = await client.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(503);
    expect((error as APIError).code).toBe('model_not_loaded');
    expect((error as APIError).message).toMatch(/No model is loaded: load one/);
    await expect(client.models.retrieve('tiny')).rejects.toMatchObject({ status: 404 });
  });

  it('checks bodies: JSON only, within the size limit, with the fields each route needs', async () => {
    const { gateway } = await startTestGateway({ gateway: { maxBodyBytes: 4096 } });
    const chat = `${gateway.baseUrl}/chat/completions`;
    expect(await post(chat, '{"messages": [')).toMatchObject({ status: 400, error: { code: 'invalid_json', type: 'invalid_request_error' } });
    expect(await post(chat, '{"messages": []}')).toMatchObject({ status: 400, error: { param: 'messages' } });
    expect(await post(`${gateway.baseUrl}/completions`, '{"max_tokens": 3}')).toMatchObject({ status: 400, error: { param: 'prompt' } });
    expect(await post(chat, '{"messages": [{"role": "user"}]}', { 'Content-Type': 'text/plain' })).toMatchObject({ status: 415 });
    expect(await post(chat, JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] }))).toMatchObject({ status: 413, error: { code: 'request_too_large' } });
    expect((await fetch(chat)).status).toBe(405);
    expect(await post(chat, '[{"role": "user"}]')).toMatchObject({ status: 400, error: { code: 'invalid_body' } });
    expect((await fetch(`${gateway.baseUrl}/embeddings`, { method: 'POST' })).status).toBe(415);
  });

  it('refuses a Host header other than its own address when it needs no key (DNS rebinding)', async () => {
    const { gateway } = await startTestGateway();
    const { port } = new URL(gateway.baseUrl);
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/v1/models', headers: { Host: `attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(403);
  });
});

describe('OpenAI gateway with an API key', () => {
  it('will not listen off loopback without a key', async () => {
    const slot = new ModelSlot({ tools: await ensureTools() });
    const error = await startOpenAiGateway({ slot, host: '0.0.0.0', port: 0 }).then(() => null, (caught: unknown) => caught);
    expect(isHearthError(error) && error.code).toBe('api-key-required');
  });

  it('demands the key when exposed, with an OpenAI-style 401, and serves the holder', async () => {
    const key = 'hearth-test-key-0123456789';
    // requireKey stands in for a LAN address: the test may only listen on loopback.
    const { slot, gateway, client } = await startTestGateway({ gateway: { requireKey: true, apiKey: key } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });

    const bare = await fetch(`${gateway.baseUrl}/models`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect(await bare.json()).toEqual({ error: { message: expect.stringContaining('API key'), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });

    const wrong = new (client.constructor as typeof import('openai').default)({ baseURL: gateway.baseUrl, apiKey: `${key}x`, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(wrong.completions.create({ model: 'tiny', prompt: 'hi', max_tokens: 2 })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });

    const completion = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 4, ...GREEDY });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
  });
});

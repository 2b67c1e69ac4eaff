// llama-server's own routes through the gateway: passed on as they are, refused in Hearth's
// words where the loaded model cannot serve them, withheld with the reason where Hearth does
// not pass them on.
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { syntheticModel } from '../../../helpers/models.js';
import { GREEDY, startTestGateway, TINY_ARGS } from './gateway-setup.js';

async function call(url: string, body?: object): Promise<{ status: number; type: string; json: unknown; text: string }> {
  const response = await fetch(url, body ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {});
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Prometheus text, for /metrics.
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', json, text };
}

describe('llama-server routes through the gateway', () => {
  it('passes them on: health, props, metrics, tokenize, detokenize, apply-template, token counting, native completion', async () => {
    const { slot, gateway } = await startTestGateway();
    const root = gateway.baseUrl.replace(/\/v1$/, '');
    // No model yet: even /health says why, as llama-server's does while loading.
    expect(await call(`${root}/health`)).toMatchObject({ status: 503, json: { error: { code: 'model_not_loaded' } } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });

    expect(await call(`${root}/health`)).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await call(`${root}/v1/health`)).toMatchObject({ status: 200 });
    expect(await call(`${root}/props`)).toMatchObject({ status: 200, json: { model_alias: 'tiny', chat_template: expect.any(String) } });
    const metrics = await call(`${root}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^llamacpp:prompt_tokens_total /m);

    const tokens = await call(`${root}/tokenize`, { content: 'hearth model' });
    expect(tokens).toMatchObject({ status: 200, json: { tokens: expect.any(Array) } });
    expect(await call(`${root}/detokenize`, tokens.json as object)).toMatchObject({ status: 200, json: { content: expect.stringContaining('hearth model') } });
    expect(await call(`${root}/apply-template`, { messages: [{ role: 'user', content: 'Hi' }] })).toMatchObject({ status: 200, json: { prompt: expect.stringContaining('Hi') } });
    expect(await call(`${root}/v1/messages/count_tokens`, { model: 'x', messages: [{ role: 'user', content: 'Hi' }] })).toMatchObject({ status: 200, json: { input_tokens: expect.any(Number) } });
    const native = await call(`${root}/completion`, { prompt: 'The hearth', n_predict: 4, ...GREEDY });
    expect(native).toMatchObject({ status: 200, json: { content: expect.any(String), tokens_predicted: 4 } });
  });

  it('says in its own words, in the API\'s shape, what a model loaded for text cannot do: embeddings, reranking, infill without FIM tokens', async () => {
    const { slot, gateway, client } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const root = gateway.baseUrl.replace(/\/v1$/, '');

    const embedding = await client.embeddings.create({ model: 'tiny', input: 'hi' }).catch((caught: unknown) => caught);
    expect(embedding).toBeInstanceOf(APIError);
    expect(embedding).toMatchObject({ status: 501, code: 'not_supported' });
    expect((embedding as APIError).message).toMatch(/"tiny" is loaded to generate text: llama\.cpp serves embeddings only from a model loaded for them alone/);

    expect(await call(`${root}/v1/rerank`, { query: 'a', documents: ['b'] })).toMatchObject({ status: 501, json: { error: { code: 'not_supported', message: expect.stringMatching(/reranks only with a reranking model/) } } });
    expect(await call(`${root}/infill`, { input_prefix: 'def f(', input_suffix: '):' })).toMatchObject({ status: 501, json: { error: { message: expect.stringMatching(/"tiny" cannot fill in the middle \(llama-server: Infill is not supported by this model.*\)\. Load a code model/) } } });
    // Other refusals of llama-server pass to OpenAI clients as they are: here, a prompt past the context.
    const tooLong = await call(`${gateway.baseUrl}/completions`, { prompt: 'hearth '.repeat(600), max_tokens: 1 });
    expect(tooLong).toMatchObject({ status: 400, json: { error: { type: 'exceed_context_size_error', n_ctx: 512 } } });
  });

  it('withholds the routes it does not pass on, saying why, and keeps to each route\'s method', async () => {
    const { gateway } = await startTestGateway();
    const root = gateway.baseUrl.replace(/\/v1$/, '');
    expect(await call(`${root}/slots`)).toMatchObject({ status: 404, json: { error: { code: 'not_found', message: expect.stringMatching(/^Hearth does not pass \/slots on: slots hold other clients' prompts/) } } });
    expect(await call(`${root}/models/load`, { model: 'x' })).toMatchObject({ status: 404, json: { error: { message: expect.stringMatching(/models are loaded in Hearth/) } } });
    expect(await call(`${root}/props`, { n_ctx: 4 })).toMatchObject({ status: 405, json: { error: { code: 'method_not_allowed', message: 'Use GET for /props.' } } });
    expect(await call(`${root}/no-such-route`)).toMatchObject({ status: 404, json: { error: { message: expect.stringMatching(/Hearth serves OpenAI's API under \/v1, Anthropic's \/v1\/messages, Ollama's under \/api/) } } });
  });
});

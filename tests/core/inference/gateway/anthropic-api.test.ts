// Anthropic's SDK through the gateway: Hearth's own answers (no model, a bad body, a wrong key,
// a stream cut short) reach it in Anthropic's error shape, and its x-api-key header is a key.
import Anthropic, { APIError, AuthenticationError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { syntheticModel } from '../../../helpers/models.js';
import { startTestGateway, TINY_ARGS } from './gateway-setup.js';

const ASK = { model: 'tiny', max_tokens: 8, messages: [{ role: 'user' as const, content: 'Hello there' }], temperature: 0, top_k: 1 };

function anthropic(baseUrl: string, apiKey = 'unused-on-loopback'): Anthropic {
  return new Anthropic({ baseURL: baseUrl.replace(/\/v1$/, ''), apiKey, maxRetries: 0 });
}

describe('Anthropic\'s Messages API through the gateway', () => {
  it('answers in Anthropic\'s error shape: no model yet (503), a bad body (400)', async () => {
    const { gateway } = await startTestGateway();
    const client = anthropic(gateway.baseUrl);
    const unloaded = await client.messages.create(ASK).catch((caught: unknown) => caught);
    expect(unloaded).toBeInstanceOf(APIError);
    expect(unloaded).toMatchObject({ status: 503, error: { type: 'error', error: { type: 'api_error', message: expect.stringMatching(/^No model is loaded: load one/) } } });

    const bad = await client.messages.create({ ...ASK, messages: [] }).catch((caught: unknown) => caught);
    expect(bad).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: '"messages" must be a non-empty array of messages.' } } });
  });

  it('takes the key the SDK sends as x-api-key when the API is exposed, and refuses a wrong one as an authentication error', async () => {
    const key = 'hearth-test-key-0123456789';
    const { slot, gateway } = await startTestGateway({ gateway: { requireKey: true, apiKey: key } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const wrong = await anthropic(gateway.baseUrl, `${key}x`).messages.create(ASK).catch((caught: unknown) => caught);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong).toMatchObject({ error: { error: { type: 'authentication_error' } } });

    const message = await anthropic(gateway.baseUrl, key).messages.create(ASK);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'max_tokens', usage: { output_tokens: 8 } });
  });

  it('ends a stream the unload cuts short with an Anthropic error event, which the SDK raises', async () => {
    const { slot, gateway } = await startTestGateway({ slot: { drainMs: 0 } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const stream = anthropic(gateway.baseUrl).messages.stream({ ...ASK, max_tokens: 400 });
    let unloaded: Promise<void> | undefined;
    let deltas = 0;
    stream.on('text', () => {
      if (deltas++ === 0) unloaded = slot.unload();
    });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    await unloaded;
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toMatch(/"tiny" was unloaded while this request ran/);
    expect(deltas).toBeLessThan(400);
  });
});

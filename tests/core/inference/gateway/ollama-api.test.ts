// Ollama's API through the gateway, with the ollama package where a client would use it: the
// model listings, refusals in Ollama's `{ error }` shape, the gateway's rules (a key, the Host
// check, JSON from pages) on its routes too, and streams cut short.
import http from 'node:http';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { syntheticModel } from '../../../helpers/models.js';
import { startTestGateway, TINY_ARGS } from './gateway-setup.js';

const GREEDY_OPTIONS = { temperature: 0, top_k: 1, seed: 1 };

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, json: await response.json() };
}

describe('Ollama\'s API through the gateway', () => {
  it('before a model is loaded: the version answers, tags and ps list nothing, show and chat say why', async () => {
    const { gateway } = await startTestGateway();
    const client = new Ollama({ host: gateway.baseUrl.replace(/\/v1$/, '') });
    expect(await client.version()).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(await client.list()).toEqual({ models: [] });
    expect(await client.ps()).toEqual({ models: [] });
    await expect(client.show({ model: 'tiny' })).rejects.toMatchObject({ status_code: 404, error: "model 'tiny' not found: no model is loaded in Hearth." });
    await expect(client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status_code: 503, error: expect.stringMatching(/^No model is loaded/) });
  });

  it('describes the loaded model (show, ps), answers a load-only request, and passes llama-server\'s refusals on in its shape', async () => {
    const { slot, gateway } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const root = gateway.baseUrl.replace(/\/v1$/, '');
    const client = new Ollama({ host: root });

    const shown = await client.show({ model: 'tiny:latest' });
    expect(shown).toMatchObject({ details: { format: 'gguf', family: 'llama', quantization_level: 'F16' }, capabilities: ['completion'], parameters: 'num_ctx 512' });
    expect(shown.template).toContain('im_start');
    expect(shown.model_info).toMatchObject({ 'general.architecture': 'llama', 'general.name': 'hearth-tiny', 'llama.context_length': 512 });
    expect((await client.ps()).models).toEqual([expect.objectContaining({ name: 'tiny:latest', context_length: 512 })]);

    // No messages, or no prompt: Ollama's way to load a model ahead of use; it is loaded.
    expect(await client.chat({ model: 'tiny', messages: [] })).toMatchObject({ done: true, done_reason: 'load' });
    expect(await client.generate({ model: 'tiny', prompt: '' })).toMatchObject({ done: true, done_reason: 'load', response: '' });

    // llama-server refuses a prompt past the context: the client gets its words, as Ollama's error.
    await expect(client.generate({ model: 'tiny', prompt: 'hearth '.repeat(600), raw: true, options: { num_predict: 1 } })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/context/) });
  });

  it('refuses what it cannot do, in Ollama\'s shape', async () => {
    const { slot, gateway } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const api = `${gateway.baseUrl.replace(/\/v1$/, '')}/api`;
    const json = { 'Content-Type': 'application/json' };
    expect(await post(`${api}/pull`, '{"model": "llama3"}', json)).toEqual({ status: 501, json: { error: expect.stringMatching(/^Hearth does not serve \/api\/pull: .*load a GGUF file in Hearth/) } });
    expect(await post(`${api}/embed`, '{"model": "tiny", "input": "hi"}', json)).toMatchObject({ status: 501 });
    expect(await post(`${api}/chat`, JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi', images: ['aGk='] }] }), json)).toEqual({ status: 400, json: { error: expect.stringMatching(/cannot see images/) } });
    expect(await post(`${api}/generate`, JSON.stringify({ model: 'tiny', prompt: 'def f(', suffix: ')' }), json)).toEqual({ status: 400, json: { error: expect.stringMatching(/served at \/infill/) } });
    expect(await post(`${api}/chat`, '{"model": "tiny", "messages": "hi"}', json)).toEqual({ status: 400, json: { error: '"messages" must be an array of messages.' } });
    expect(await post(`${api}/chat`, '{"model": ', json)).toMatchObject({ status: 400, json: { error: expect.stringMatching(/not valid JSON/) } });
    expect((await fetch(`${api}/chat`)).status).toBe(405);
    expect(await (await fetch(`${api}/nothing`)).json()).toEqual({ error: expect.stringMatching(/^There is no \/api\/nothing: Hearth serves Ollama's \/api\/version/) });
  });

  it('takes a body of any type from a program (Ollama\'s curl examples), but only JSON from a web page', async () => {
    const { slot, gateway } = await startTestGateway();
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const body = JSON.stringify({ model: 'tiny', prompt: 'Hello', stream: false, options: { ...GREEDY_OPTIONS, num_predict: 3 } });
    const url = `${gateway.baseUrl.replace(/\/v1$/, '')}/api/generate`;
    // What `curl -d` sends.
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect(await post(url, body, form)).toMatchObject({ status: 200, json: { done: true, eval_count: 3 } });
    expect(await post(url, body, { ...form, Origin: 'http://attacker.example' })).toMatchObject({ status: 415, json: { error: expect.stringMatching(/as JSON/) } });
  });

  it('keeps the gateway\'s rules on its routes: the key when exposed, the Host check without one', async () => {
    const key = 'hearth-test-key-0123456789';
    const { slot, gateway } = await startTestGateway({ gateway: { requireKey: true, apiKey: key } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const host = gateway.baseUrl.replace(/\/v1$/, '');
    await expect(new Ollama({ host }).list()).rejects.toMatchObject({ status_code: 401, error: expect.stringMatching(/API key/) });
    const client = new Ollama({ host, headers: { Authorization: `Bearer ${key}` } });
    expect((await client.list()).models.map((model) => model.name)).toEqual(['tiny:latest']);
    expect(await client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], options: { ...GREEDY_OPTIONS, num_predict: 4 } })).toMatchObject({ done: true, eval_count: 4 });

    const open = await startTestGateway();
    const { port } = new URL(open.gateway.baseUrl);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/api/tags', headers: { Host: `attacker.example:${port}` } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      }).on('error', reject);
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/^Host not allowed/) });
  });

  it('ends a stream the unload cuts short with an error line, which the client raises', async () => {
    const { slot, gateway } = await startTestGateway({ slot: { drainMs: 0 } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const client = new Ollama({ host: gateway.baseUrl.replace(/\/v1$/, '') });
    const stream = await client.generate({ model: 'tiny', prompt: 'Hello there', stream: true, options: { ...GREEDY_OPTIONS, num_predict: 400 } });
    let lines = 0;
    let unloaded: Promise<void> | undefined;
    const error = await (async () => {
      for await (const _ of stream) if (lines++ === 0) unloaded = slot.unload();
    })().then(() => null, (caught: unknown) => caught);
    await unloaded;
    expect((error as Error).message).toMatch(/"tiny" was unloaded while this request ran/);
    expect(lines).toBeLessThan(400);
  });
});

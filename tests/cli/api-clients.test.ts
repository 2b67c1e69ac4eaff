// Every kind of client, unchanged, against `hearth load` of a synthetic model: the official
// openai package, Anthropic's SDK, the ollama package, and curl. Each must get the greedy text
// llama-server gives on its own for the same request (for Ollama's shapes, which Hearth
// translates: for the same messages or prompt sent to llama-server's OpenAI route).
import Anthropic from '@anthropic-ai/sdk';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../src-main/core/native/tools.js';
import { GREEDY, TINY_ARGS } from '../core/inference/gateway/gateway-setup.js';
import { startHearth, stopped, type Running } from '../helpers/hearth-process.js';
import { startLlamaServer, type LlamaServer } from '../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../helpers/models.js';

const TOKENS = 8;
const MESSAGES = [{ role: 'user' as const, content: 'Hello there' }];

let reference: LlamaServer;
let load: Running;
/** What the clients are given: OpenAI's base URL ends in /v1, Anthropic's and Ollama's are the server's root. */
let openaiBase: string;
let root: string;

beforeAll(async () => {
  const model = await syntheticModel('tinyCoder');
  const tools = await ensureTools();
  reference = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: TINY_ARGS });
  load = startHearth(['load', model, '--no-discovery', '--wait', '0', '--port', '0', '--json'], { HEARTH_DATA_DIR: scratchDir('hearth-data-') });
  openaiBase = String((await load.next('ready')).api);
  root = openaiBase.replace(/\/v1$/, '');
});

afterAll(async () => {
  await reference?.stop();
  if (load) expect(await stopped(load), load.stderr()).toBe(0);
});

/** llama-server's own answer to `body` at `path`. */
async function direct<T>(path: string, body: object): Promise<T> {
  const response = await fetch(`${reference.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

/** llama-server's greedy chat answer to MESSAGES, with `sampling` as the client's request has it. */
async function directChat(sampling: object): Promise<string> {
  const answer = await direct<{ choices: { message: { content: string } }[] }>('/v1/chat/completions', { messages: MESSAGES, max_tokens: TOKENS, ...sampling });
  return answer.choices[0]!.message.content;
}

describe('clients of hearth load', () => {
  it('openai: chat, streaming chat, responses and streamed responses', async () => {
    const client = new OpenAI({ baseURL: openaiBase, apiKey: 'unused-on-loopback', maxRetries: 0 });
    const expected = await directChat(GREEDY);
    expect(expected.length).toBeGreaterThan(0);

    const chat = await client.chat.completions.create({ model: 'tinyCoder', messages: MESSAGES, max_tokens: TOKENS, ...GREEDY });
    expect(chat.choices[0]!.message.content).toBe(expected);

    const stream = await client.chat.completions.create({ model: 'tinyCoder', messages: MESSAGES, max_tokens: TOKENS, stream: true, ...GREEDY });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(expected);

    const request = { model: 'tinyCoder', input: 'Hello there', max_output_tokens: TOKENS, ...GREEDY };
    const response = await client.responses.create(request);
    const own = await direct<{ output: { content?: { text: string }[] }[] }>('/v1/responses', request);
    expect(response.output_text).toBe(own.output.flatMap((item) => item.content ?? []).map((part) => part.text).join(''));
    expect(response.output_text).toBe(expected);
    let deltas = '';
    for await (const event of await client.responses.create({ ...request, stream: true })) if (event.type === 'response.output_text.delta') deltas += event.delta;
    expect(deltas).toBe(expected);
  });

  it('anthropic: messages, and streamed messages', async () => {
    const client = new Anthropic({ baseURL: root, apiKey: 'unused-on-loopback', maxRetries: 0 });
    // llama-server's Messages route passes on temperature, top_p and top_k only (tools/server/server-chat.cpp).
    const request = { model: 'tinyCoder', max_tokens: TOKENS, messages: MESSAGES, temperature: 0, top_k: 1 };
    const own = await direct<{ content: { text: string }[] }>('/v1/messages', request);
    const expected = await directChat({ temperature: 0, top_k: 1 });
    expect(own.content[0]!.text).toBe(expected);

    const message = await client.messages.create(request);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: expected })]);
    expect(message.stop_reason).toBe('max_tokens');

    const stream = client.messages.stream(request);
    expect(await stream.finalText()).toBe(expected);
  });

  it('ollama: list, chat, and streaming generate', async () => {
    const client = new Ollama({ host: root });
    const { models } = await client.list();
    expect(models).toEqual([expect.objectContaining({ name: 'tinyCoder:latest', details: expect.objectContaining({ format: 'gguf', family: 'llama', quantization_level: 'F16' }) })]);

    const options = { temperature: 0, top_k: 1, seed: 1, num_predict: TOKENS };
    const expected = await directChat({ temperature: 0, top_k: 1, seed: 1 });
    const chat = await client.chat({ model: 'tinyCoder:latest', messages: MESSAGES, options });
    expect(chat.message.content).toBe(expected);
    expect(chat).toMatchObject({ model: 'tinyCoder:latest', done: true, done_reason: 'length', eval_count: TOKENS });

    // Without "raw", generate puts the prompt in the model's chat template, as one user message.
    const generated = await client.generate({ model: 'tinyCoder:latest', prompt: 'Hello there', stream: true, options });
    let text = '';
    let pieces = 0;
    for await (const part of generated) {
      text += part.response ?? '';
      pieces++;
    }
    expect(pieces).toBeGreaterThan(2); // line by line, not one buffered answer
    expect(text).toBe(expected);
  });

  it('curl: infill and tokenize', async () => {
    const curl = async (path: string, body: object): Promise<unknown> => {
      const { stdout } = await promisify(execFile)('curl', ['-sS', '--fail-with-body', '-H', 'Content-Type: application/json', '-d', JSON.stringify(body), `${root}${path}`]);
      return JSON.parse(stdout);
    };
    const infill = { input_prefix: 'def hearth(', input_suffix: '):\n    return warm\n', n_predict: TOKENS, ...GREEDY };
    const own = await direct<{ content: string }>('/infill', infill);
    expect(own.content.length).toBeGreaterThan(0);
    expect(await curl('/infill', infill)).toMatchObject({ content: own.content });

    const tokenize = { content: 'A hearth in every home lab' };
    const tokens = await direct<{ tokens: number[] }>('/tokenize', tokenize);
    expect(await curl('/tokenize', tokenize)).toEqual(tokens);
    expect(await curl('/detokenize', tokens)).toEqual(await direct('/detokenize', tokens));
  });
});

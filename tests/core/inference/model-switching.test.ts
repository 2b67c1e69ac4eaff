import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import type { SlotStatus } from '../../../src-main/core/inference/model-slot.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { GREEDY, startTestGateway, TINY_ARGS } from './gateway/gateway-setup.js';

const PROMPT = 'The hearth is warm and the model is ready';

/** Consume a stream to its end; what it yielded, and the error that ended it, if any. */
async function drain<T>(stream: AsyncIterable<T>, onFirst?: () => void): Promise<{ chunks: number; error: unknown }> {
  let chunks = 0;
  try {
    for await (const _ of stream) if (chunks++ === 0) onFirst?.();
    return { chunks, error: null };
  } catch (error) {
    return { chunks, error };
  }
}

describe('model switching', () => {
  it('switches models: the old one is unloaded, the new id is listed and serves', async () => {
    const { slot, client } = await startTestGateway();
    const statuses: SlotStatus['state'][] = [];
    slot.on('status', (status: SlotStatus) => statuses.push(status.state));
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const first = slot.server!;
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['tiny']);

    await slot.load({ model: await syntheticModel('q8'), args: TINY_ARGS });
    expect(first.state).toEqual({ state: 'stopped' });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['q8']);
    const completion = await client.completions.create({ model: 'q8', prompt: PROMPT, max_tokens: 6, ...GREEDY });
    expect(completion.model).toBe('q8');
    expect(statuses).toEqual(expect.arrayContaining(['loading', 'ready', 'unloading', 'empty']));

    await slot.unload();
    expect(slot.status).toEqual({ state: 'empty' });
    await expect(client.completions.create({ model: 'q8', prompt: PROMPT })).rejects.toMatchObject({ status: 503, code: 'model_not_loaded' });
  });

  it('lets a running request finish before unloading (within the drain time)', async () => {
    const { slot, client } = await startTestGateway({ slot: { drainMs: 30_000 } });
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const stream = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 48, stream: true, ...GREEDY });
    let unloaded: Promise<void> | undefined;
    const result = await drain(stream, () => (unloaded = slot.unload()));
    await unloaded;

    expect(result).toEqual({ chunks: expect.any(Number), error: null });
    expect(result.chunks).toBeGreaterThanOrEqual(48);
    expect(slot.status).toEqual({ state: 'empty' });
  });

  it('ends a request still running when the drain time is over with an error event, not a broken socket', async () => {
    const { slot, client } = await startTestGateway({ slot: { drainMs: 0 } });
    const next = await syntheticModel('q8');
    await slot.load({ model: await syntheticModel('tiny'), args: TINY_ARGS });
    const stream = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 400, stream: true, ...GREEDY });
    let switched: Promise<void> | undefined;
    const result = await drain(stream, () => (switched = slot.load({ model: next, args: TINY_ARGS })));
    await switched;

    expect(result.error).toBeInstanceOf(APIError);
    expect((result.error as APIError).message).toMatch(/"tiny" was unloaded while this request ran/);
    expect(result.chunks).toBeLessThan(400);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['q8']);
  });
});

describe('llama-server failures', () => {
  it('a kill -9 mid-serve: the stream ends with the reason, the gateway answers 503 with it, a new load works', async () => {
    const { slot, client } = await startTestGateway();
    const model = await syntheticModel('tiny');
    await slot.load({ model, args: TINY_ARGS });
    const stream = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 400, stream: true, ...GREEDY });
    const result = await drain(stream, () => process.kill(slot.server!.pid!, 'SIGKILL'));

    expect(result.error).toBeInstanceOf(APIError);
    expect((result.error as APIError).message).toMatch(/"tiny" stopped: llama-server was killed by SIGKILL while serving/);
    expect(slot.status).toMatchObject({ state: 'failed', during: 'serve', reason: 'llama-server was killed by SIGKILL while serving' });
    expect((slot.status as { logTail: string[] }).logTail.join('\n')).toContain('model loaded');

    const error = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 4 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 503, code: 'model_failed' });
    expect((error as APIError).message).toMatch(/killed by SIGKILL while serving\. Load it again in Hearth\.\nLast lines of its log:\n/);
    expect((error as APIError).error).toMatchObject({ log_tail: expect.arrayContaining([expect.stringContaining('model loaded')]) });

    await slot.load({ model, args: TINY_ARGS });
    const completion = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 4, ...GREEDY });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
  });

  it('a model that fails to load: load rejects with the cause, the status keeps the log tail, 503 says so', async () => {
    const { slot, client } = await startTestGateway();
    const good = readFileSync(await syntheticModel('tiny'));
    const truncated = path.join(scratchDir(), 'truncated.gguf');
    await writeFile(truncated, good.subarray(0, good.length >> 1));

    const error = await slot.load({ model: truncated, args: TINY_ARGS }).then(() => null, (caught: unknown) => caught);
    expect(isHearthError(error) && error.code).toBe('model-load-failed');
    expect((error as Error).message).toMatch(/exited with code 1 while loading the model: .*not within the file bounds/);
    expect(slot.status).toMatchObject({ state: 'failed', modelId: 'truncated', during: 'load' });
    expect((slot.status as { logTail: string[] }).logTail.some((line) => line.includes(truncated))).toBe(true);

    const refused = await client.chat.completions.create({ model: 'truncated', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ status: 503, code: 'model_failed' });
    expect((refused as APIError).message).toMatch(/"truncated" failed to load: .*not within the file bounds/);
  });
});

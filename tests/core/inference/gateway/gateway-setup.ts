// Shared by the gateway tests: a slot and a gateway on an ephemeral loopback port, an official
// OpenAI client pointed at it, all closed after the test.
import OpenAI from 'openai';
import { onTestFinished } from 'vitest';
import { ModelSlot, type ModelSlotOptions } from '../../../../src-main/core/inference/model-slot.js';
import { startOpenAiGateway, type OpenAiGateway, type OpenAiGatewayOptions } from '../../../../src-main/core/inference/openai-gateway.js';
import { ensureTools } from '../../../../src-main/core/native/tools.js';

/** Flags for the tiny synthetic models: CPU only, small context, two threads (the machine has two cores). */
export const TINY_ARGS = ['-c', '512', '-t', '2', '-ngl', '0'];

/** Greedy and a fixed length (end-of-sequence ignored): llama.cpp's extra fields, sent as they are. */
export const GREEDY = { temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false } as const;

export interface TestGateway {
  slot: ModelSlot;
  gateway: OpenAiGateway;
  /** An official client: no retries, so a 503 shows as it is. */
  client: OpenAI;
}

/** A slot and a gateway in front of it, stopped when the test ends. */
export async function startTestGateway(options: { slot?: Partial<ModelSlotOptions>; gateway?: Partial<OpenAiGatewayOptions> } = {}): Promise<TestGateway> {
  const slot = new ModelSlot({ tools: await ensureTools(), ...options.slot });
  const gateway = await startOpenAiGateway({ slot, port: 0, ...options.gateway });
  onTestFinished(async () => {
    await gateway.close();
    await slot.unload();
  });
  const client = new OpenAI({ baseURL: gateway.baseUrl, apiKey: options.gateway?.apiKey ?? 'unused-on-loopback', maxRetries: 0 });
  return { slot, gateway, client };
}

// Where a served model's OpenAI-compatible API listens: the slot that holds the model and the
// gateway in front of it. `hearth load` opens one per load; the app and `hearth serve` keep one
// for their whole life, so the API's address answers (503, with why) even with nothing loaded.
import { HearthError } from '../base/errors.js';
import { ModelSlot } from '../inference/model-slot.js';
import { startOpenAiGateway } from '../inference/openai-gateway.js';
import type { LlamaTools } from '../native/tools.js';

/** Where to listen, and the key clients need (required off loopback). */
export interface ApiListen {
  host: string;
  port: number;
  apiKey?: string | undefined;
}

/** A listening API and the slot behind it. */
export interface ApiEndpoint {
  slot: ModelSlot;
  /** Ends in `/v1`. */
  baseUrl: string;
  apiKey: string | null;
  close(): Promise<void>;
}

/** Start the slot and the gateway; a port in use is an error that says what to do. */
export async function openApiEndpoint(tools: LlamaTools, listen: ApiListen): Promise<ApiEndpoint> {
  const slot = new ModelSlot({ tools });
  const gateway = await startOpenAiGateway({ slot, host: listen.host, port: listen.port, apiKey: listen.apiKey }).catch((cause: unknown) => {
    if ((cause as HearthError).code === 'api-key-required') throw cause;
    throw new HearthError('api-unavailable', `The OpenAI-compatible API cannot listen on ${listen.host}:${listen.port} (${(cause as Error).message}): stop what uses that port (another hearth load?), or choose another port (--port, or --api-port for hearth serve).`, { cause });
  });
  return {
    slot,
    baseUrl: gateway.baseUrl,
    apiKey: listen.apiKey ?? null,
    close: async () => {
      await slot.unload();
      await gateway.close();
    },
  };
}

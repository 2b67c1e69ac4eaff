// The Chat screen's answers: each ask streams from the loaded model through the OpenAI gateway,
// like any other client of the API, its pieces pushed as `chatText` events under the ask's id.
import { EventEmitter } from 'node:events';
import type { ChatAsk, ChatReply, ChatText } from '../api/contract.js';
import { HearthError } from '../base/errors.js';
import { streamChat } from '../inference/chat-stream.js';

export interface ChatServiceOptions {
  /** The gateway's base URL (ending in `/v1`) while a model serves, else null. */
  baseUrl: () => string | null;
  apiKey: () => string | undefined;
}

export class ChatService extends EventEmitter<{ chatText: [ChatText] }> {
  readonly #options: ChatServiceOptions;
  readonly #running = new Map<string, AbortController>();

  constructor(options: ChatServiceOptions) {
    super();
    this.#options = options;
  }

  /** Resolves with the whole answer, or with what had arrived when `stop` was called. */
  async send(ask: ChatAsk): Promise<ChatReply> {
    const baseUrl = this.#options.baseUrl();
    if (!baseUrl) throw new HearthError('no-model', 'No model is loaded: open one on the Model screen and press Load.');
    if (this.#running.has(ask.id)) throw new HearthError('busy', `An answer with id ${ask.id} is already streaming.`);
    const abort = new AbortController();
    this.#running.set(ask.id, abort);
    let content = '';
    let tokens = 0;
    try {
      const answer = await streamChat({
        baseUrl, apiKey: this.#options.apiKey(), messages: ask.messages, maxTokens: ask.maxTokens, temperature: ask.temperature, signal: abort.signal,
        onText: (text) => {
          content += text;
          tokens++;
          this.emit('chatText', { id: ask.id, text });
        },
      });
      return { id: ask.id, content: answer.content, tokens: answer.tokens, tokensPerSecond: answer.tokensPerSecond, stopped: false };
    } catch (error) {
      if (abort.signal.aborted) return { id: ask.id, content, tokens, tokensPerSecond: null, stopped: true };
      throw error;
    } finally {
      this.#running.delete(ask.id);
    }
  }

  stop(id: string): void {
    this.#running.get(id)?.abort();
  }

  stopAll(): void {
    for (const abort of this.#running.values()) abort.abort();
  }
}

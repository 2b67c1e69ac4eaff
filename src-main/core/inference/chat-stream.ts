// A streaming chat completion against an OpenAI-compatible API (Hearth's gateway), read as
// server-sent events; what `hearth chat` and other in-process callers use.
import type { ChatTurn } from '../../shared/chat.js';
import { HearthError } from '../base/errors.js';

/** One message of a conversation, as the OpenAI API names them: the contract's chat turn. */
export type ChatMessage = ChatTurn;

/** What one streamed answer came to. */
export interface ChatAnswer {
  content: string;
  /** Streamed content chunks (llama-server sends one per token). */
  tokens: number;
  /** Seconds from the first token to the last. */
  seconds: number;
  tokensPerSecond: number | null;
}

/** How to ask. */
export interface ChatRequest {
  /** The API's base URL, ending in `/v1`. */
  baseUrl: string;
  apiKey?: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Called with each piece of the answer as it arrives. */
  onText?: (text: string) => void;
  signal?: AbortSignal;
}

/** Stream one chat completion; errors say what the server answered. */
export async function streamChat(request: ChatRequest): Promise<ChatAnswer> {
  const url = `${request.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const body = { model: 'hearth', messages: request.messages, stream: true, max_tokens: request.maxTokens, temperature: request.temperature };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}) },
    body: JSON.stringify(body),
    signal: request.signal,
  }).catch((cause: unknown) => {
    throw new HearthError('api-unreachable', `No OpenAI-compatible API answered at ${request.baseUrl} (${(cause as Error).message}): is a model loaded (hearth load)?`, { cause });
  });
  if (!response.ok || !response.body) throw new HearthError('api-refused', `${url} answered ${response.status}: ${errorMessage(await response.text())}`);

  let content = '';
  let tokens = 0;
  let first: number | null = null;
  let last = 0;
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const text = parseEvent(line);
      if (!text) continue;
      const now = performance.now();
      first ??= now;
      last = now;
      tokens++;
      content += text;
      request.onText?.(text);
    }
  }
  const seconds = first === null ? 0 : (last - first) / 1000;
  // The first token's arrival starts the clock, so n tokens span n - 1 intervals.
  return { content, tokens, seconds, tokensPerSecond: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : null };
}

/** The text of one SSE line of a chat stream; throws on a streamed error event. */
function parseEvent(line: string): string {
  if (!line.startsWith('data:')) return '';
  const data = line.slice(5).trim();
  if (data === '[DONE]' || data === '') return '';
  const event = JSON.parse(data) as { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
  if (event.error) throw new HearthError('api-stream-failed', `The answer broke off: ${event.error.message ?? 'unknown error'}`);
  return event.choices?.[0]?.delta?.content ?? '';
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    return text.slice(0, 500);
  }
}

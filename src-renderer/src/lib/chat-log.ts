// The pure part of the Chat screen: an answer growing chunk by chunk, the messages sent with
// each ask, and the live speed; ChatState (chat.svelte.ts) holds them as runes.
import type { ChatReply, ChatText, ChatTurn } from '../../../src-main/core/api/contract.js';

/** What the user is told when there is no model to talk to. */
export const noModelMessage = 'No model is loaded: open one on the Model screen and press Load.';

/** The answer being streamed: its text so far, and when its first and latest chunks came (ms). */
export interface LiveAnswer {
  id: string;
  content: string;
  chunks: number;
  firstAt: number | null;
  lastAt: number | null;
}

/** An answer with nothing in it yet, for the ask with this id. */
export function newAnswer(id: string): LiveAnswer {
  return { id, content: '', chunks: 0, firstAt: null, lastAt: null };
}

/** The answer with this chunk appended; a chunk of another ask (late, or from another window) changes nothing. */
export function applyChunk(answer: LiveAnswer | null, chunk: ChatText, now: number): LiveAnswer | null {
  if (!answer || chunk.id !== answer.id || chunk.text === '') return answer;
  return { id: answer.id, content: answer.content + chunk.text, chunks: answer.chunks + 1, firstAt: answer.firstAt ?? now, lastAt: now };
}

/**
 * The messages of an ask: the system prompt (when there is one), then the history as plain
 * objects (the turns may be reactive proxies, which IPC cannot clone); turns with no text are
 * left out, since chat templates render them as empty messages the model then imitates.
 */
export function buildMessages(turns: readonly ChatTurn[], systemPrompt?: string): ChatTurn[] {
  const messages: ChatTurn[] = [];
  const system = systemPrompt?.trim();
  if (system) messages.push({ role: 'system', content: system });
  for (const turn of turns) {
    if (turn.content !== '') messages.push({ role: turn.role, content: turn.content });
  }
  return messages;
}

/**
 * Tokens per second from chunks (llama-server streams one per token) over the ms from the first
 * chunk to the latest: n chunks span n - 1 intervals, as core/inference/chat-stream.ts counts.
 */
export function liveTokensPerSecond(chunks: number, elapsedMs: number): number | null {
  if (chunks < 2 || elapsedMs <= 0) return null;
  return (chunks - 1) / (elapsedMs / 1000);
}

/** The live speed of a streaming answer, or null before it has two chunks. */
export function answerTokensPerSecond(answer: LiveAnswer | null): number | null {
  if (!answer || answer.firstAt === null || answer.lastAt === null) return null;
  return liveTokensPerSecond(answer.chunks, answer.lastAt - answer.firstAt);
}

/** A speed for people: "12.3 tokens/s". */
export function formatTokensPerSecond(tokensPerSecond: number): string {
  return `${tokensPerSecond >= 100 ? Math.round(tokensPerSecond) : tokensPerSecond.toFixed(1)} tokens/s`;
}

/** An error from either transport as the core's words, without the transport's prefix (IPC's "Error invoking…", HTTP's "sendChat failed (409):"). */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^Error invoking remote method '[^']*': /, '')
    .replace(/^[A-Za-z]+ failed \(\d{3}\): /, '')
    .replace(/^(?:[A-Za-z]*Error: )+/, '');
}

/** The figures of a finished answer that the speed line shows. */
export type AnswerFigures = Pick<ChatReply, 'tokens' | 'tokensPerSecond' | 'stopped'>;

/** The speed line under the conversation: live while streaming, else the last answer's; null before any. */
export function describeSpeed(streaming: boolean, live: number | null, last: AnswerFigures | null): string | null {
  if (streaming) return live === null ? 'Answering…' : `Answering at ${formatTokensPerSecond(live)}`;
  if (!last) return null;
  const tokens = `${last.tokens} ${last.tokens === 1 ? 'token' : 'tokens'}`;
  const speed = last.tokensPerSecond === null ? '' : ` at ${formatTokensPerSecond(last.tokensPerSecond)}`;
  return last.stopped ? `Stopped after ${tokens}${speed}` : `Last answer: ${tokens}${speed}`;
}

// The conversation with the loaded model: its turns, the answer streaming in, and its speed.
import type { ChatTurn, HearthApi } from '../../../src-main/core/api/contract.js';
import { answerTokensPerSecond, applyChunk, buildMessages, errorText, newAnswer, noModelMessage, type AnswerFigures, type LiveAnswer } from './chat-log.js';

/** One chat; `start` it once (it listens for streamed text), and call what it returns to stop. */
export class ChatState {
  turns = $state<ChatTurn[]>([]);
  /** The answer streaming now, or null. */
  answer = $state<LiveAnswer | null>(null);
  /** What the composer holds; given back when an ask fails or is stopped before any text. */
  draft = $state('');
  /** Sent first with every ask when not empty. */
  systemPrompt = $state('');
  error = $state<string | null>(null);
  /** Tokens and speed of the last finished (or stopped) answer. */
  lastAnswer = $state<AnswerFigures | null>(null);

  readonly streaming = $derived(this.answer !== null);
  /** Speed of the streaming answer so far; null before its second chunk. */
  readonly liveTokensPerSecond = $derived(answerTokensPerSecond(this.answer));

  /** `modelReady` says whether a model can answer now; asks made without one get `noModelMessage`. */
  constructor(
    private readonly api: HearthApi,
    private readonly modelReady: () => boolean = () => true,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): () => void {
    return this.api.on('chatText', (chunk) => {
      this.answer = applyChunk(this.answer, chunk, this.now());
    });
  }

  /** Ask with the whole history; resolves when the answer is complete, stopped or failed (then `error` says why). */
  async send(text: string): Promise<void> {
    const content = text.trim();
    if (content === '' || this.answer) return;
    if (!this.modelReady()) {
      this.error = noModelMessage;
      return;
    }
    const id = crypto.randomUUID();
    const messages = buildMessages([...this.turns, { role: 'user', content }], this.systemPrompt);
    this.error = null;
    this.turns.push({ role: 'user', content });
    this.answer = newAnswer(id);
    if (this.draft === text) this.draft = '';
    try {
      const reply = await this.api.sendChat({ id, messages });
      // A "New chat" while it ran: the answer belongs to a conversation that is gone.
      if (this.answer?.id !== id) return;
      if (reply.stopped && reply.content === '') this.takeBack(content);
      else this.turns.push({ role: 'assistant', content: reply.content });
      this.lastAnswer = { tokens: reply.tokens, tokensPerSecond: reply.tokensPerSecond, stopped: reply.stopped };
    } catch (error) {
      if (this.answer?.id !== id) return;
      this.error = errorText(error);
      // Keep what did arrive; with nothing, the question goes back to the composer to send again.
      if (this.answer.content !== '') this.turns.push({ role: 'assistant', content: this.answer.content });
      else this.takeBack(content);
    } finally {
      if (this.answer?.id === id) this.answer = null;
    }
  }

  /** Stop the streaming answer; `send` then resolves with what came so far. */
  async stop(): Promise<void> {
    const id = this.answer?.id;
    if (!id) return;
    try {
      await this.api.stopChat({ id });
    } catch (error) {
      this.error = errorText(error);
    }
  }

  /** Start over: stops a streaming answer and forgets the conversation (not the draft). */
  clear(): void {
    void this.stop();
    this.turns = [];
    this.answer = null;
    this.lastAnswer = null;
    this.error = null;
  }

  // An unanswered question leaves the history, so the next ask does not send it twice.
  private takeBack(content: string): void {
    const last = this.turns.at(-1);
    if (last?.role === 'user' && last.content === content) this.turns.pop();
    if (this.draft.trim() === '') this.draft = content;
  }
}

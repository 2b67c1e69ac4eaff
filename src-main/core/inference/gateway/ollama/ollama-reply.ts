// llama-server's OpenAI-shaped answers as Ollama's: one JSON object, or with streaming one JSON
// object per line (NDJSON) per piece of text, the last with `done: true` and the statistics
// (https://docs.ollama.com/api, ChatResponse and GenerateResponse; durations in nanoseconds).
import type http from 'node:http';
import { sendJson } from '../../../net/http-replies.js';
import { readText } from '../../../net/http-request.js';
import type { AnswerWriter } from '../backend-exchange.js';
import { readBackendError } from '../backend-errors.js';
import { GatewayError } from '../gateway-error.js';
import { sseData } from '../sse-events.js';

/** Which Ollama route answers: chat puts the text in `message`, generate in `response`. */
export type OllamaRoute = 'chat' | 'generate';

/** Who asked and when. */
export interface ReplyContext {
  route: OllamaRoute;
  /** The model name the client asked for, echoed as Ollama does. */
  model: string;
  /** llama-server's name for it, for error messages. */
  modelId: string;
  stream: boolean;
  /** process.hrtime.bigint() when the request came. */
  startedAt: bigint;
}

/** One OpenAI answer or chunk, read: llama-server's `choices[0]` and its statistics. */
interface Piece {
  content: string;
  thinking: string;
  toolCalls: ToolCallPart[];
  finishReason: string | null;
  timings?: { prompt_n?: number; prompt_ms?: number; predicted_n?: number; predicted_ms?: number; cache_n?: number };
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** A tool call, whole or (streaming) a part of one: `index` says which. */
interface ToolCallPart {
  index?: number;
  function?: { name?: string; arguments?: string };
}

/** A writer that turns llama-server's answer into Ollama's. */
export function ollamaReply(context: ReplyContext): AnswerWriter {
  return async (answer: http.IncomingMessage, res: http.ServerResponse) => {
    if ((answer.statusCode ?? 502) >= 400) throw await readBackendError(answer, context.modelId);
    if (!context.stream) {
      const piece = readPiece(JSON.parse(await readText(answer)) as unknown, 'message');
      return sendJson(res, 200, { ...line(context, piece, finishedCalls(piece.toolCalls)), ...doneFields(context, piece) });
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-ndjson');
    res.flushHeaders();
    const calls = new Map<number, { name: string; arguments: string }>();
    let last: Piece | null = null;
    let over = false;
    for await (const data of sseData(answer)) {
      // Read to the end even past [DONE]: an answer left unread would look cut off.
      if (over || data === '[DONE]') {
        over = true;
        continue;
      }
      const piece = readPiece(JSON.parse(data) as unknown, 'delta');
      for (const part of piece.toolCalls) {
        const call = calls.get(part.index ?? 0) ?? { name: '', arguments: '' };
        call.name += part.function?.name ?? '';
        call.arguments += part.function?.arguments ?? '';
        calls.set(part.index ?? 0, call);
      }
      if (piece.content || piece.thinking) res.write(`${JSON.stringify(line(context, piece, []))}\n`);
      last = piece;
    }
    const final = last ?? { content: '', thinking: '', toolCalls: [], finishReason: null };
    // Ollama sends a call whole, once its arguments are complete.
    if (calls.size > 0) res.write(`${JSON.stringify(line(context, { ...final, content: '', thinking: '' }, [...calls.values()].map(toOllamaCall)))}\n`);
    res.write(`${JSON.stringify({ ...line(context, { ...final, content: '', thinking: '' }, []), ...doneFields(context, final) })}\n`);
  };
}

/** The answer to a request that only asks for the model to be loaded (no messages, no prompt): it is. */
export function loadedAnswer(context: Pick<ReplyContext, 'route' | 'model'>): Record<string, unknown> {
  const text = context.route === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  return { model: context.model, created_at: new Date().toISOString(), ...text, done: true, done_reason: 'load' };
}

function readPiece(json: unknown, field: 'message' | 'delta'): Piece {
  const body = json as { error?: { message?: string; type?: string }; choices?: Record<string, unknown>[]; timings?: Piece['timings']; usage?: Piece['usage'] };
  // A stream that fails midway says so in an event of its own.
  if (body.error) throw new GatewayError(500, body.error.message ?? 'llama-server failed while answering', body.error.type ?? 'backend_error');
  const choice = body.choices?.[0] ?? {};
  const message = (choice[field] ?? {}) as { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown };
  // Chat answers carry a message (or a delta); completions the text itself.
  const content = typeof message.content === 'string' ? message.content : typeof choice.text === 'string' ? choice.text : '';
  return {
    content,
    thinking: typeof message.reasoning_content === 'string' ? message.reasoning_content : '',
    toolCalls: Array.isArray(message.tool_calls) ? (message.tool_calls as ToolCallPart[]) : [],
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
    timings: body.timings,
    usage: body.usage,
  };
}

function line(context: ReplyContext, piece: Piece, toolCalls: ReturnType<typeof toOllamaCall>[]): Record<string, unknown> {
  const head = { model: context.model, created_at: new Date().toISOString() };
  const thinking = piece.thinking ? { thinking: piece.thinking } : {};
  if (context.route === 'generate') return { ...head, response: piece.content, ...thinking, done: false };
  const calls = toolCalls.length > 0 ? { tool_calls: toolCalls } : {};
  return { ...head, message: { role: 'assistant', content: piece.content, ...thinking, ...calls }, done: false };
}

function doneFields(context: ReplyContext, piece: Piece): Record<string, unknown> {
  const { timings = {}, usage = {} } = piece;
  const ns = (ms: number | undefined) => Math.round((ms ?? 0) * 1e6);
  return {
    done: true,
    done_reason: piece.finishReason === 'length' ? 'length' : 'stop',
    total_duration: Number(process.hrtime.bigint() - context.startedAt),
    // The model was loaded before the request came; Hearth loads it, not the request.
    load_duration: 0,
    prompt_eval_count: usage.prompt_tokens ?? (timings.prompt_n ?? 0) + (timings.cache_n ?? 0),
    prompt_eval_duration: ns(timings.prompt_ms),
    eval_count: usage.completion_tokens ?? timings.predicted_n ?? 0,
    eval_duration: ns(timings.predicted_ms),
  };
}

function finishedCalls(parts: ToolCallPart[]): ReturnType<typeof toOllamaCall>[] {
  return parts.map((part) => toOllamaCall({ name: part.function?.name ?? '', arguments: part.function?.arguments ?? '' }));
}

/** OpenAI carries a call's arguments as a JSON string, Ollama as the object. */
function toOllamaCall(call: { name: string; arguments: string }): { function: { name: string; arguments: unknown } } {
  let args: unknown;
  try {
    args = call.arguments ? JSON.parse(call.arguments) : {};
  } catch {
    args = { arguments: call.arguments };
  }
  return { function: { name: call.name, arguments: args } };
}

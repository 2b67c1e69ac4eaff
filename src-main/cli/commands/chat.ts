import { createInterface } from 'node:readline';
import { HearthError } from '../../core/base/errors.js';
import { readApiRecord } from '../../core/inference/api-record.js';
import { streamChat, type ChatMessage } from '../../core/inference/chat-stream.js';
import { hearthPaths } from '../../core/base/paths.js';
import { usageError, type Command, type FlagValue } from '../command.js';

/** `hearth chat [--url U]`: talk to the loaded model, a line at a time, or once with --message. */
export const chatCommand: Command = {
  name: 'chat',
  summary: 'talk to the loaded model',
  usage: 'hearth chat [--url U] [--key K] [--message TEXT] [--system TEXT] [--max-tokens N] [--temperature T] [--json]   (default: the model hearth load serves on this machine)',
  options: { url: { type: 'string' }, key: { type: 'string' }, message: { type: 'string' }, system: { type: 'string' }, 'max-tokens': { type: 'string' }, temperature: { type: 'string' } },
  async run({ flags, out }) {
    const maxTokens = flags['max-tokens'] === undefined ? undefined : Number(flags['max-tokens']);
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw usageError('--max-tokens takes a whole number of tokens, at least 1');
    const temperature = flags.temperature === undefined ? undefined : Number(flags.temperature);
    if (temperature !== undefined && !(temperature >= 0 && temperature <= 2)) throw usageError('--temperature takes a number from 0 (always the likeliest token) to 2');
    const api = await apiFor(flags);
    const history: ChatMessage[] = typeof flags.system === 'string' ? [{ role: 'system', content: flags.system }] : [];

    const ask = async (text: string): Promise<void> => {
      history.push({ role: 'user', content: text });
      const answer = await streamChat({ ...api, messages: history, maxTokens, temperature, onText: out.json ? undefined : (piece) => process.stdout.write(piece) });
      history.push({ role: 'assistant', content: answer.content });
      const speed = answer.tokensPerSecond === null ? '' : ` (${answer.tokens} tokens, ${answer.tokensPerSecond.toFixed(1)} tokens/s)`;
      out.event({ event: 'answer', ...answer }, `\n${speed.trim()}`);
    };

    if (typeof flags.message === 'string') {
      await ask(flags.message);
      return 0;
    }
    const interactive = process.stdin.isTTY === true;
    if (interactive) out.note(`Talking to ${api.modelId} at ${api.baseUrl}. An empty line or Ctrl-D ends.`);
    const lines = createInterface({ input: process.stdin, output: interactive ? process.stderr : undefined, prompt: '> ', terminal: interactive });
    if (interactive) lines.prompt();
    for await (const line of lines) {
      if (line.trim() === '') {
        if (interactive) break;
        continue;
      }
      await ask(line);
      if (interactive) lines.prompt();
    }
    return 0;
  },
};

/** The API to talk to: --url (and --key), or the model this machine serves. */
async function apiFor(flags: Record<string, FlagValue>): Promise<{ baseUrl: string; apiKey?: string; modelId: string }> {
  const key = typeof flags.key === 'string' ? flags.key : process.env.HEARTH_API_KEY;
  if (typeof flags.url === 'string') {
    const url = flags.url.replace(/\/+$/, '');
    return { baseUrl: url.endsWith('/v1') ? url : `${url}/v1`, apiKey: key, modelId: 'the model' };
  }
  const record = await readApiRecord(hearthPaths().dataDir);
  if (!record) throw new HearthError('no-model', 'No model is being served on this machine: load one first (hearth load <model.gguf>), or give --url.');
  return { baseUrl: record.baseUrl, apiKey: key ?? record.apiKey ?? undefined, modelId: record.modelId };
}

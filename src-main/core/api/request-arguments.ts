// What each request of the contract accepts, checked the same way whichever transport carried it:
// a page is untrusted input (a compromised renderer, or anyone holding a web token), so nothing
// reaches the core that is not the shape the contract names. Bad input is a BadArgument with a
// message that says what the request takes.
import { DecodeError } from '../base/decode.js';
import { cacheCap, modelDirList } from '../worker-api/wire.js';
import type { ChatAsk, ChatTurn, HearthRequests, PlanChoices, SettingsChange } from './contract.js';

/** The argument a request was given does not match what it takes. */
export class BadArgument extends Error {
  override name = 'BadArgument';
}

/** Turns the values a transport received (zero or one) into the request's arguments, or throws BadArgument. */
type Decoders = { [K in keyof HearthRequests]: (args: readonly unknown[]) => Parameters<HearthRequests[K]> };

const MAX_TEXT = 1 << 20;
const MAX_TURNS = 1000;
/** All turns together; the web transport takes a request body of up to 8 MiB. */
const MAX_CONVERSATION = 4 << 20;

export const requestArguments: Decoders = {
  getStatus: none('getStatus'),
  getCluster: none('getCluster'),
  addPeer: one('addPeer', '{ host, port? }', (value) => {
    const host = text(value, 'host', 253);
    if (!/^[\w.:-]+$/.test(host)) throw new BadArgument(`addPeer: "${host}" is not a host name or IP address`);
    return value.port === undefined ? { host } : { host, port: port(value.port) };
  }),
  showPairingCode: none('showPairingCode'),
  joinCluster: one('joinCluster', '{ code }', (value) => ({ code: text(value, 'code', 64) })),
  listModelFiles: none('listModelFiles'),
  openModel: one('openModel', '{ path }', (value) => ({ path: text(value, 'path', 4096) })),
  closeModel: none('closeModel'),
  getSession: none('getSession'),
  setPlanChoices: one('setPlanChoices', '{ contextLength, shares, exclude }', planChoices),
  startWarmup: one('startWarmup', '{ maxBytesPerSecond? }', (value) => {
    const rate = value.maxBytesPerSecond;
    if (rate === undefined) return {};
    if (typeof rate !== 'number' || !(rate >= 1) || !Number.isFinite(rate)) throw new BadArgument('startWarmup: maxBytesPerSecond must be a number of bytes per second, at least 1');
    return { maxBytesPerSecond: rate };
  }, true),
  cancelWarmup: none('cancelWarmup'),
  loadModel: none('loadModel'),
  unloadModel: none('unloadModel'),
  moveModelBack: none('moveModelBack'),
  sendChat: one('sendChat', '{ id, messages, maxTokens?, temperature? }', chatAsk),
  stopChat: one('stopChat', '{ id }', (value) => ({ id: text(value, 'id', 128) })),
  getSettings: none('getSettings'),
  updateSettings: one('updateSettings', '{ cacheMaxBytes?, modelDirs?, workerEnabled?, startAtLogin?, openLan?, keepWarm? }', settingsChange),
  clearCache: one('clearCache', '{ modelId }', (value) => {
    if (value.modelId === null) return { modelId: null };
    return { modelId: text(value, 'modelId', 128) };
  }),
};

function none(name: string): (args: readonly unknown[]) => [] {
  return (args) => {
    if (args.some((arg) => arg !== undefined && arg !== null)) throw new BadArgument(`${name} takes no argument`);
    return [];
  };
}

type Fields = Record<string, unknown>;

/** One object argument; `optional` lets it be left out (then `{}`). */
function one<T>(name: string, shape: string, decode: (value: Fields) => T, optional = false): (args: readonly unknown[]) => [T] {
  return (args) => {
    if (args.length > 1) throw new BadArgument(`${name} takes one argument, ${shape}`);
    const value = args[0] ?? (optional ? {} : undefined);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadArgument(`${name} takes ${shape}`);
    try {
      return [decode(value as Fields)];
    } catch (error) {
      if (error instanceof DecodeError) throw new BadArgument(`${name}: ${error.message}`);
      if (error instanceof BadArgument && !error.message.startsWith(`${name}:`)) throw new BadArgument(`${name}: ${error.message}`);
      throw error;
    }
  };
}

function text(value: Fields, field: string, maxLength: number): string {
  const given = value[field];
  if (typeof given !== 'string' || given.length === 0 || given.length > maxLength) throw new BadArgument(`"${field}" must be a non-empty string of at most ${maxLength} characters`);
  return given;
}

function port(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) throw new BadArgument('"port" must be a TCP port, 1-65535');
  return value as number;
}

function planChoices(value: Fields): PlanChoices {
  const { contextLength, shares, exclude } = value;
  if (contextLength !== null && (!Number.isInteger(contextLength) || (contextLength as number) < 1 || (contextLength as number) > 1 << 24)) {
    throw new BadArgument('"contextLength" must be a whole number of tokens, or null for the default');
  }
  if (typeof shares !== 'object' || shares === null || Array.isArray(shares)) throw new BadArgument('"shares" must be an object of device id → weight ({} for auto)');
  const weights: Record<string, number> = {};
  for (const [device, weight] of Object.entries(shares)) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new BadArgument(`the share of "${device}" must be a number 0 or more`);
    weights[device] = weight;
  }
  if (!Array.isArray(exclude) || exclude.some((id) => typeof id !== 'string')) throw new BadArgument('"exclude" must be a list of device or peer ids ([] for none)');
  return { contextLength: contextLength as number | null, shares: weights, exclude: exclude as string[] };
}

function chatAsk(value: Fields): ChatAsk {
  const id = text(value, 'id', 128);
  const { messages, maxTokens, temperature } = value;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_TURNS) throw new BadArgument(`"messages" must be a list of 1 to ${MAX_TURNS} turns`);
  const turns = messages.map((turn: unknown): ChatTurn => {
    const { role, content } = (turn ?? {}) as Fields;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') throw new BadArgument('each turn\'s "role" must be "system", "user" or "assistant"');
    if (typeof content !== 'string' || content.length > MAX_TEXT) throw new BadArgument(`each turn's "content" must be a string of at most ${MAX_TEXT} characters`);
    return { role, content };
  });
  if (turns.reduce((sum, turn) => sum + turn.content.length, 0) > MAX_CONVERSATION) throw new BadArgument('the conversation is too long for one request: start a New chat');
  const ask: ChatAsk = { id, messages: turns };
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) throw new BadArgument('"maxTokens" must be a whole number, at least 1');
    ask.maxTokens = maxTokens as number;
  }
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 5)) throw new BadArgument('"temperature" must be a number from 0 to 5');
    ask.temperature = temperature;
  }
  return ask;
}

function settingsChange(value: Fields): SettingsChange {
  const known = ['cacheMaxBytes', 'modelDirs', 'workerEnabled', 'startAtLogin', 'openLan', 'keepWarm'];
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new BadArgument(`unknown setting ${unknown.map((key) => `"${key}"`).join(', ')}`);
  const change: SettingsChange = {};
  // The worker's own settings, checked as its control API checks them.
  if ('cacheMaxBytes' in value) change.cacheMaxBytes = cacheCap(value.cacheMaxBytes, 'cacheMaxBytes');
  if ('modelDirs' in value) change.modelDirs = modelDirList(value.modelDirs, 'modelDirs');
  for (const flag of ['workerEnabled', 'startAtLogin', 'openLan', 'keepWarm'] as const) {
    if (!(flag in value)) continue;
    if (typeof value[flag] !== 'boolean') throw new BadArgument(`"${flag}" must be true or false`);
    change[flag] = value[flag];
  }
  return change;
}

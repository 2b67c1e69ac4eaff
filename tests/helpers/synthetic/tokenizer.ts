// A small SentencePiece-style vocabulary (`tokenizer.ggml.model = "llama"`) that llama.cpp's SPM
// tokenizer (src/llama-vocab.cpp) accepts. What it relies on:
// - token texts must be unique (it asserts id_to_token.size() == token_to_id.size());
// - `<0x00>`…`<0xFF>` byte pieces, so any text falls back to bytes and '\n' has a token. Those
//   over 0x7F are typed CONTROL rather than BYTE: still found for byte fallback, but printed as
//   nothing, because random weights would string them into invalid UTF-8, which llama-server
//   answers with an error (a real model only emits them in valid sequences);
// - SPM merges two adjacent symbols only when their concatenation is itself a token, so a word
//   is reachable only if every left prefix of it is in the vocabulary too;
// - spaces become "▁" (U+2581) and a leading "▁" is added, so words are stored as "▁word".
import type { GgufValue } from './gguf-writer.js';

/** llama.cpp token types (include/llama.h `enum llama_token_type`). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

/** A vocabulary as GGUF stores it: parallel arrays indexed by token id. */
export interface LlamaVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  /** Ids of the fill-in-the-middle tokens, when the vocabulary has them (llama-server's /infill needs all three). */
  fim?: { prefix: number; suffix: number; middle: number };
}

// Qwen's spelling of the three, one llama.cpp recognises (src/llama-vocab.cpp, the FIM_PRE search).
const FIM_TOKENS = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'] as const;

/** Fixed ids of the special tokens (llama.cpp's SPM defaults, written explicitly anyway). */
export const SpecialTokens = { unk: 0, bos: 1, eos: 2 } as const;

/** Smallest vocabulary accepted: 3 specials, 256 bytes and a few ordinary pieces. */
export const MIN_VOCAB_SIZE = 300;

const SPACE = '\u2581';
const WORDS = (
  'the of and to in is it you that he was for on are with as his they be at one have this from ' +
  'or had by hot word but what some we can out other were all there when up use your how said an ' +
  'each she which do their time if will way about many then them write would like so these her ' +
  'long make thing see him two has look more day could go come did number sound no most people my ' +
  'over know water than call first who may down side been now find any new work part take get ' +
  'place made live where after back little only round man year came show every good me give our ' +
  'under name very through just form sentence great think say help low line differ turn cause much ' +
  'mean before move right boy old too same tell does set three want air well also play small end ' +
  'put home read hand port large spell add even land here must big high such follow act why ask ' +
  'men change went light kind off need house picture try us again animal point mother world near ' +
  'build self earth father head stand own page should country found answer school grow study still ' +
  'learn plant cover food sun four between state keep eye never last let thought city tree cross ' +
  'farm hard start might story saw far sea draw left late run while press close night real life ' +
  'few north hearth model worker cache token layer tensor machine network'
).split(' ');

/** Builds a deterministic vocabulary of exactly `size` tokens; with `fim`, its last three are the fill-in-the-middle tokens. */
export function buildLlamaVocab(size: number, options: { fim?: boolean } = {}): LlamaVocab {
  if (!Number.isInteger(size) || size < MIN_VOCAB_SIZE) {
    throw new Error(`vocabulary size must be an integer of at least ${MIN_VOCAB_SIZE}, got ${size}`);
  }
  const tokens: string[] = [];
  const types: number[] = [];
  const seen = new Set<string>();
  const add = (text: string, type: number): void => {
    if (tokens.length >= size || seen.has(text)) return;
    seen.add(text);
    tokens.push(text);
    types.push(type);
  };

  add('<unk>', TokenType.UNKNOWN);
  add('<s>', TokenType.CONTROL);
  add('</s>', TokenType.CONTROL);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, b < 0x80 ? TokenType.BYTE : TokenType.CONTROL);
  // Last, so every other token keeps the id it has in a vocabulary without them.
  const ordinaryEnd = options.fim ? size - FIM_TOKENS.length : size;
  for (const piece of ordinaryPieces()) {
    if (tokens.length >= ordinaryEnd) break;
    add(piece, TokenType.NORMAL);
  }
  for (const text of options.fim ? FIM_TOKENS : []) add(text, TokenType.CONTROL);

  // SPM prefers the higher score when merging; decreasing scores mimic real vocabularies
  // (earlier, more common pieces win). Specials and bytes score 0 as in converted models.
  const scores = new Float32Array(size);
  for (let id = 0; id < size; id++) scores[id] = types[id] === TokenType.NORMAL ? -id : 0;
  const fim = options.fim ? { prefix: size - 3, suffix: size - 2, middle: size - 1 } : undefined;
  return { tokens, scores, types: Int32Array.from(types), fim };
}

/** The tokenizer metadata llama.cpp reads for an SPM vocabulary. */
export function llamaTokenizerMetadata(vocab: LlamaVocab): Array<readonly [string, GgufValue]> {
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'float32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'int32[]', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: SpecialTokens.bos }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: SpecialTokens.eos }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: SpecialTokens.unk }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ...(vocab.fim
      ? ([
          ['tokenizer.ggml.fim_pre_token_id', { type: 'uint32', value: vocab.fim.prefix }],
          ['tokenizer.ggml.fim_suf_token_id', { type: 'uint32', value: vocab.fim.suffix }],
          ['tokenizer.ggml.fim_mid_token_id', { type: 'uint32', value: vocab.fim.middle }],
        ] as const)
      : []),
  ];
}

/** Ordinary pieces, most useful first; more than any test vocabulary needs. */
function* ordinaryPieces(): Generator<string> {
  yield SPACE;
  // Printable ASCII, so plain prompts tokenize to characters rather than bytes.
  for (let c = 0x21; c <= 0x7e; c++) yield String.fromCharCode(c);
  for (let c = 0x21; c <= 0x7e; c++) yield SPACE + String.fromCharCode(c);
  // Every left prefix of "▁word", so the merges can reach the whole word.
  for (const word of WORDS) {
    for (let end = 2; end <= word.length; end++) yield SPACE + word.slice(0, end);
  }
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  for (const a of letters) for (const b of letters) yield a + b;
  for (const a of letters) for (const b of letters) yield SPACE + a + b;
  for (const a of letters) for (const b of letters) for (const c of letters) yield a + b + c;
  for (const a of letters) for (const b of letters) for (const c of letters) yield SPACE + a + b + c;
  // Beyond ~37k pieces: numbered filler, still unique.
  for (let n = 0; ; n++) yield `${SPACE}w${n}`;
}

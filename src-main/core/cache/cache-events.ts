// The cache events Hearth's patched ggml-rpc-server prints on stdout, one per line
// (patches/llama.cpp/0002-rpc-cache-atomic-verified-observable.patch).

/** One thing the RPC server did with its tensor cache or a client connection. */
export type ServerCacheEvent =
  | { kind: 'hit'; hash: string; bytes: number }
  | { kind: 'miss'; hash: string }
  | { kind: 'store'; hash: string; bytes: number }
  | { kind: 'drop'; hash: string; reason: string }
  | { kind: 'store-failed'; hash: string; reason: string }
  | { kind: 'client-open' }
  | { kind: 'client-close'; received: number; sent: number };

const HASH = '([0-9a-f]{16})';
const PATTERNS: [RegExp, (m: RegExpExecArray) => ServerCacheEvent][] = [
  [new RegExp(`^hearth-cache hit ${HASH} (\\d+)$`), (m) => ({ kind: 'hit', hash: m[1]!, bytes: Number(m[2]) })],
  [new RegExp(`^hearth-cache miss ${HASH}$`), (m) => ({ kind: 'miss', hash: m[1]! })],
  [new RegExp(`^hearth-cache store ${HASH} (\\d+)$`), (m) => ({ kind: 'store', hash: m[1]!, bytes: Number(m[2]) })],
  [new RegExp(`^hearth-cache drop ${HASH} (\\S+)$`), (m) => ({ kind: 'drop', hash: m[1]!, reason: m[2]! })],
  [new RegExp(`^hearth-cache store-failed ${HASH} (\\S+)$`), (m) => ({ kind: 'store-failed', hash: m[1]!, reason: m[2]! })],
  [/^hearth-rpc client-open$/, () => ({ kind: 'client-open' })],
  [/^hearth-rpc client-close received=(\d+) sent=(\d+)$/, (m) => ({ kind: 'client-close', received: Number(m[1]), sent: Number(m[2]) })],
];

/** The event a line of the server's output reports, or undefined for any other line. */
export function parseServerCacheEvent(line: string): ServerCacheEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('hearth-')) return undefined;
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(trimmed);
    if (match) return build(match);
  }
  return undefined;
}

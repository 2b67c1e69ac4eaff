// The cache cap as people type it. Same units as the CLI's `--cache-max` (src-main/cli/parse-size.ts):
// K/M/G/T are powers of 1000, KiB/MiB/GiB/TiB powers of 1024, so "50G" means the same in both.
const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** A parsed cap: bytes, or null for the default; or what is wrong with the text and what to type. */
export type CacheCapInput = { ok: true; bytes: number | null } | { ok: false; error: string };

/** Parse a size like "50G", "200 GiB", "1.5TB" or "1048576" into bytes; undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unit = UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Parse what the user typed as the cache cap: a size, or "default" (any case) for the disk-based default. */
export function parseCacheCap(text: string): CacheCapInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'Type a cap such as 50G or 200 GiB, or default.' };
  if (trimmed.toLowerCase() === 'default') return { ok: true, bytes: null };
  const bytes = parseSize(trimmed);
  if (bytes === undefined) return { ok: false, error: `"${trimmed}" is not a size: type one such as 50G or 200 GiB, or default.` };
  if (bytes < 1) return { ok: false, error: 'A cap of 0 bytes would hold nothing: type a size such as 50G, or default.' };
  return { ok: true, bytes };
}

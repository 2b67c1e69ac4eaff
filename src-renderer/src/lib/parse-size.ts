// The cache cap as people type it: a size in the units of the CLI's `--cache-max` (the same parser,
// so "50G" means the same in both), or "default".
import { parseSize } from '../../../src-main/shared/parse-size.js';

/** A parsed cap: bytes, or null for the default; or what is wrong with the text and what to type. */
export type CacheCapInput = { ok: true; bytes: number | null } | { ok: false; error: string };

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

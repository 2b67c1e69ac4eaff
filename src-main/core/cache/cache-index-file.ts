import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/write-atomic.js';
import { emptyStats, type CacheStats } from './cache-stats.js';

/** A model whose hash manifest a coordinator registered: which entries belong to it. */
export interface ModelRecord {
  name: string;
  hashes: string[];
}

/** What the cache remembers beside its entries (`hearth-cache.json` in the cache root). */
export interface CacheIndexData {
  version: 1;
  /** User-set size cap in bytes, or null for the default from the disk's size. */
  capBytes: number | null;
  /** Last use of each entry (ms since epoch), for least-recently-used eviction. */
  lastUsed: Record<string, number>;
  models: Record<string, ModelRecord>;
  lifetime: CacheStats;
}

/** The index file of a cache root. */
export function indexPath(root: string): string {
  return path.join(root, 'hearth-cache.json');
}

/** Read the index; a missing or unreadable one starts empty (the entries on disk stay the truth). */
export async function loadIndex(root: string): Promise<CacheIndexData> {
  const empty: CacheIndexData = { version: 1, capBytes: null, lastUsed: {}, models: validModels(null), lifetime: emptyStats() };
  try {
    const data = JSON.parse(await readFile(indexPath(root), 'utf8')) as Partial<CacheIndexData>;
    if (data.version !== 1) return empty;
    return {
      version: 1,
      capBytes: typeof data.capBytes === 'number' && data.capBytes >= 0 ? data.capBytes : null,
      lastUsed: data.lastUsed && typeof data.lastUsed === 'object' ? data.lastUsed : {},
      models: validModels(data.models),
      lifetime: { ...emptyStats(), ...data.lifetime },
    };
  } catch {
    return empty;
  }
}

// Null-prototype records: a model id such as "constructor" or "__proto__" is just a key.
function validModels(value: unknown): Record<string, ModelRecord> {
  const models = Object.create(null) as Record<string, ModelRecord>;
  if (!value || typeof value !== 'object') return models;
  for (const [id, record] of Object.entries(value as Record<string, unknown>)) {
    const { name, hashes } = (record ?? {}) as Partial<ModelRecord>;
    if (typeof name === 'string' && Array.isArray(hashes) && hashes.every((hash) => typeof hash === 'string')) models[id] = { name, hashes };
  }
  return models;
}

/** Write the index atomically: a crash leaves the old file or the new one, never half of one. */
export async function saveIndex(root: string, data: CacheIndexData): Promise<void> {
  await writeFileAtomic(indexPath(root), JSON.stringify(data));
}

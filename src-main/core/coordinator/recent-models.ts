// The models this machine loaded lately, with the choices they were planned with: what keep-warm
// keeps warm across the cluster. Kept in the data folder, written atomically; an unreadable file
// is an empty list (it only costs a cold load).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { arrayOf, count, number, object, optional, recordOf, text, tryDecode } from '../base/decode.js';
import { writeFileAtomic } from '../base/write-atomic.js';
import type { PlanOptions } from '../planner/plan-types.js';

/** One model loaded lately. */
export interface RecentModel {
  /** The model file (as it was loaded). */
  path: string;
  options: PlanOptions;
  /** ms since the epoch. */
  loadedAt: number;
}

/** How many models keep-warm looks after: each costs its shares' space in the members' caches. */
export const MAX_RECENT_MODELS = 3;

const stored = object({
  version: count,
  models: arrayOf(object({
    path: text({ max: 4096 }),
    loadedAt: number(),
    options: object({ contextLength: optional(count), shares: optional(recordOf(number({ min: 0 }))), exclude: optional(arrayOf(text({ max: 512 }))) }),
  }), { max: 100 }),
});

/** The list, newest first. */
export async function readRecentModels(dataDir: string): Promise<RecentModel[]> {
  const text = await readFile(fileOf(dataDir), 'utf8').catch(() => '');
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* damaged or absent: nothing recent */ }
  return (tryDecode(stored, json)?.models ?? []).slice(0, MAX_RECENT_MODELS);
}

/** Note that `model` was just loaded with `options`; returns the list, newest first. */
export async function noteRecentModel(dataDir: string, model: string, options: PlanOptions, now = Date.now()): Promise<RecentModel[]> {
  const others = (await readRecentModels(dataDir)).filter((recent) => recent.path !== model);
  const models = [{ path: model, options, loadedAt: now }, ...others].slice(0, MAX_RECENT_MODELS);
  await writeFileAtomic(fileOf(dataDir), `${JSON.stringify({ version: 1, models }, null, 2)}\n`);
  return models;
}

function fileOf(dataDir: string): string {
  return path.join(dataDir, 'recent-models.json');
}

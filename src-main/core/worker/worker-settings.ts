// A worker's own settings, its cache cap and model folders: read and changed the same way from
// its control API and from the UI of the machine it runs on.
import type { CacheStore } from '../cache/cache-store.js';
import type { WorkerSettings } from '../worker-api/wire.js';
import type { LocalModels } from './local-models.js';

/** What the settings live in. */
export interface SettingsTarget {
  cache: CacheStore;
  models: LocalModels;
}

/** The settings now. */
export function workerSettings({ cache, models }: SettingsTarget): WorkerSettings {
  return { cacheDir: cache.dir, cacheMaxBytes: cache.capBytes, cacheMaxIsDefault: cache.summary().capIsDefault, modelDirs: models.dirs };
}

/** Change what `change` names; the folders are checked first (each must exist), so a bad one changes nothing. */
export async function changeWorkerSettings({ cache, models }: SettingsTarget, change: { cacheMaxBytes?: number | null; modelDirs?: readonly string[] }): Promise<void> {
  if (change.modelDirs !== undefined) await models.setDirs(change.modelDirs);
  if (change.cacheMaxBytes !== undefined) await cache.setCap(change.cacheMaxBytes);
}

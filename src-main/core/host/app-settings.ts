// The app's own settings that outlive a restart (the cache cap and model folders live with the
// cache, in its folder). Written to a temporary file and renamed, so a crash mid-write keeps
// the previous settings; an unreadable file falls back to the defaults instead of stopping the app.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/write-atomic.js';

export interface AppSettings {
  /** Offer this machine's devices to the cluster. */
  workerEnabled: boolean;
  /** The RPC server listens on every interface, unauthenticated. */
  openLan: boolean;
  /** Keep the members' caches warm in the background for the models loaded lately. */
  keepWarm: boolean;
}

const DEFAULT_APP_SETTINGS: AppSettings = { workerEnabled: true, openLan: false, keepWarm: true };

function appSettingsFile(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

export async function readAppSettings(dataDir: string): Promise<AppSettings> {
  try {
    const stored = JSON.parse(await readFile(appSettingsFile(dataDir), 'utf8')) as Partial<Record<keyof AppSettings, unknown>>;
    return {
      workerEnabled: typeof stored.workerEnabled === 'boolean' ? stored.workerEnabled : DEFAULT_APP_SETTINGS.workerEnabled,
      openLan: typeof stored.openLan === 'boolean' ? stored.openLan : DEFAULT_APP_SETTINGS.openLan,
      keepWarm: typeof stored.keepWarm === 'boolean' ? stored.keepWarm : DEFAULT_APP_SETTINGS.keepWarm,
    };
  } catch {
    return { ...DEFAULT_APP_SETTINGS };
  }
}

export async function writeAppSettings(dataDir: string, settings: AppSettings): Promise<void> {
  const file = appSettingsFile(dataDir);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}

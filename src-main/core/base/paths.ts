import os from 'node:os';
import path from 'node:path';

/** Where Hearth keeps its files on this machine; every folder can be moved by an environment variable. */
export interface HearthPaths {
  /** Re-creatable files: built tools, tensor cache. */
  cacheDir: string;
  /** Files the user would miss: keys, settings, hash manifests. */
  dataDir: string;
}

type Env = Record<string, string | undefined>;

/** The platform's conventional per-user folders (XDG on Linux, Library on macOS, AppData on Windows). */
export function hearthPaths(env: Env = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): HearthPaths {
  return {
    cacheDir: env.HEARTH_CACHE_DIR ?? defaultCacheDir(env, platform, home),
    dataDir: env.HEARTH_DATA_DIR ?? defaultDataDir(env, platform, home),
  };
}

function defaultCacheDir(env: Env, platform: NodeJS.Platform, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'Hearth');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'Hearth', 'Cache');
  return path.join(env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'hearth');
}

function defaultDataDir(env: Env, platform: NodeJS.Platform, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Hearth');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Hearth');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'hearth');
}

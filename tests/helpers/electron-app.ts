// The Electron app under test, where the Electron binary is installed and a display exists; where
// not, why (the tests print it and skip). The binary is looked up, never downloaded.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { missingDisplay } from '../../src-main/cli/electron-binary.js';
import { REPO_ROOT } from './cli.js';

const LAUNCH_WAIT_MS = 60_000;

function installedBinary(): { path: string } | { missing: string } {
  const packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = path.join(packageDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return { missing: `the Electron binary is not installed (${pathFile} is missing)` };
  const binary = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(binary) ? { path: binary } : { missing: `the Electron binary is not installed (${binary} is missing)` };
}

const binary = installedBinary();

/** Why the Electron tests cannot run here, or null when they can. */
export const electronSkipReason: string | null = 'missing' in binary ? binary.missing : (missingDisplay() ?? null);

/** Launch the built app (`dist/main/app/main.js`) with app switches and a data folder of its own. */
export async function launchApp(options: { dataDir: string; args?: string[] }): Promise<ElectronApplication> {
  if ('missing' in binary) throw new Error(binary.missing);
  for (const built of ['dist/main/app/main.js', 'dist/main/preload/preload.cjs', 'dist/renderer/index.html']) {
    if (!fs.existsSync(path.join(REPO_ROOT, built))) throw new Error(`${built} is missing: run npm run build`);
  }
  return _electron.launch({
    executablePath: binary.path,
    args: [path.join(REPO_ROOT, 'dist/main/app/main.js'), ...(options.args ?? [])],
    cwd: REPO_ROOT,
    env: { ...process.env, HEARTH_DATA_DIR: options.dataDir } as Record<string, string>,
    timeout: LAUNCH_WAIT_MS,
  });
}

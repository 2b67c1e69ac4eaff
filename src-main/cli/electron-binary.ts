import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The Electron binary to run the app with, or why there is none. */
export type ElectronBinary = { path: string } | { missing: string };

/**
 * Find the Electron binary of the `electron` package. It fetches its binary on first use; where
 * that download fails (no network to its host) Hearth runs headless instead of failing.
 */
export function findElectronBinary(notify: (text: string) => void): ElectronBinary {
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed (run "npm install")' };
  }
  const installed = binaryPath(packageDir);
  if (installed) return { path: installed };

  notify('Downloading the Electron binary (first start only)…');
  const download = spawnSync(process.execPath, [path.join(packageDir, 'install.js')], { cwd: packageDir, encoding: 'utf8', timeout: 10 * 60_000 });
  const downloaded = binaryPath(packageDir);
  if (download.status === 0 && downloaded) return { path: downloaded };
  const why = `${download.stderr ?? ''}`.split('\n').find((line) => /error/i.test(line))?.trim() ?? `exit code ${download.status}`;
  return { missing: `its binary could not be downloaded: ${why.slice(0, 160)}` };
}

function binaryPath(packageDir: string): string | undefined {
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = path.join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

/** Why this session cannot show a window, or undefined when it can. */
export function missingDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== 'linux' && platform !== 'freebsd') return undefined;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? undefined : 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

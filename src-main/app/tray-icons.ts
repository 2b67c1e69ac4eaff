// Which picture the tray shows for each state (resources/tray/, drawn by make-icons.mjs there).
import path from 'node:path';
import { appRoot } from '../core/base/app-root.js';
import type { TrayState } from './tray-state.js';

/**
 * The 16 px icon file for `state`; Electron picks the `@2x` file beside it on high-density
 * screens. On macOS idle is a template image, tinted to suit the menu bar; the other states keep
 * their colour, since the colour is the news.
 */
export function trayIconPath(state: TrayState, platform: NodeJS.Platform = process.platform, root: string = appRoot()): string {
  const name = platform === 'darwin' && state === 'idle' ? 'idleTemplate' : state;
  return path.join(root, 'resources', 'tray', `${name}.png`);
}

/** Both densities of the icon for `state`: the file and its `@2x` twin. */
export function trayIconFiles(state: TrayState, platform: NodeJS.Platform = process.platform, root: string = appRoot()): string[] {
  const file = trayIconPath(state, platform, root);
  return [file, file.replace(/\.png$/, '@2x.png')];
}

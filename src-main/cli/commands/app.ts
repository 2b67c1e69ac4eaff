import { spawn } from 'node:child_process';
import { appRoot } from '../../core/base/app-root.js';
import type { Command } from '../command.js';
import { findElectronBinary, missingDisplay } from '../electron-binary.js';
import { serveCommand } from './serve.js';

/** `hearth app` (what `npm start` runs): the desktop app, or the headless server where it cannot run. */
export const appCommand: Command = {
  name: 'app',
  summary: 'open the desktop app; without Electron or a display, run "serve" instead',
  usage: 'hearth app [serve options]',
  options: serveCommand.options,
  async run(context) {
    const display = missingDisplay();
    const electron = display ? { missing: display } : findElectronBinary((text) => context.out.note(text));
    if ('missing' in electron) {
      context.out.note(`Electron cannot run here (${electron.missing}); starting the headless server instead.`);
      return serveCommand.run(context);
    }
    const child = spawn(electron.path, [appRoot()], { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  },
};

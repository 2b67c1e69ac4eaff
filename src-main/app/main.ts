// The Electron shell: one instance per user, the core started once, one window on it.
import { app, BrowserWindow, dialog } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HearthCore } from '../core/hearth-core.js';
import { forwardEvents, registerRequestHandlers } from './ipc.js';
import { createMainWindow, hardenPages } from './window.js';

const STOP_TIMEOUT_MS = 5000;

const indexHtml = fileURLToPath(new URL('../../renderer/index.html', import.meta.url));
const files = {
  indexHtml,
  preload: fileURLToPath(new URL('../preload/preload.cjs', import.meta.url)),
  appUrl: pathToFileURL(indexHtml).href,
};

if (app.requestSingleInstanceLock()) run();
else app.quit();

function run(): void {
  let window: BrowserWindow | null = null;
  const core = HearthCore.start();
  registerRequestHandlers(core, files.appUrl);
  core.then(
    (hearth) => forwardEvents(hearth, () => BrowserWindow.getAllWindows().map((w) => w.webContents), files.appUrl),
    (error: unknown) => {
      dialog.showErrorBox('Hearth could not start', error instanceof Error ? error.message : String(error));
      app.quit();
    },
  );

  const showWindow = (): void => {
    if (!window || window.isDestroyed()) {
      window = createMainWindow(files);
      return;
    }
    if (window.isMinimized()) window.restore();
    window.focus();
  };

  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  // The tray (a later issue) will keep the worker running with no window; until then closing quits.
  app.on('window-all-closed', () => app.quit());

  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    stopped = true;
    // Never let a stuck stop keep the app from quitting.
    const stop = core.then((hearth) => hearth.stop()).catch(() => undefined);
    void Promise.race([stop, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]).then(() => app.quit());
  });

  void app.whenReady().then(() => {
    hardenPages(files.appUrl);
    showWindow();
  });
}

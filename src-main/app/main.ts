// The Electron shell: one instance per user, the core started once, a tray that keeps the worker
// serving with the window closed, and the window on demand.
import { app, BrowserWindow, dialog } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HearthCore } from '../core/host/hearth-core.js';
import { appOptions } from './app-options.js';
import { forwardEvents, registerRequestHandlers } from './ipc.js';
import { HIDDEN_FLAG, loginItemAdapter, startedHidden } from './login-item.js';
import { createTray } from './tray.js';
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
  let closeTray: (() => void) | undefined;
  // Rejects (and the error box below says why) on a switch with a bad value.
  const core = Promise.resolve().then(() => HearthCore.start({ ...appOptions(process.argv.slice(1)), loginItem: loginItemAdapter(app) }));
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
    window.show();
    window.focus();
  };

  // Starting Hearth again (from the launcher) brings the window back; a second login start does not.
  app.on('second-instance', (_event, argv) => {
    if (!argv.includes(HIDDEN_FLAG)) showWindow();
  });
  app.on('activate', showWindow);
  // A closed window is destroyed (its renderer's memory freed) while the worker keeps serving
  // from the tray: listening here stops Electron's default of quitting with the last window.
  // Without a tray icon (it could not be made) a closed window would leave Hearth running unseen: quit then.
  app.on('window-all-closed', () => {
    if (!closeTray) app.quit();
  });

  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    stopped = true;
    // Never let a stuck stop keep the app from quitting.
    const stop = core.then((hearth) => hearth.stop()).catch(() => undefined);
    void Promise.race([stop, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]).then(() => {
      closeTray?.();
      app.quit();
    });
  });

  void app.whenReady().then(async () => {
    hardenPages(files.appUrl);
    if (!startedHidden(process.argv, app)) showWindow();
    // A core that failed to start has said so and quits (above).
    const hearth = await core.catch(() => null);
    if (!hearth || stopped) return;
    try {
      closeTray = await createTray({ hearth, showWindow });
    } catch (error) {
      // Without a tray the window is the only way in, so show it.
      console.error(`Hearth could not put its icon in the tray: ${error instanceof Error ? error.message : String(error)}`);
      showWindow();
    }
  });
}

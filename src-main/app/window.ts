// The app window and the rules every page in the app lives under.
import { app, BrowserWindow, session, shell } from 'electron';
import { appWebPreferences, externalLinkTarget, isAllowedNavigation, isAllowedPermission, windowOpenResponse } from './security.js';

/** Where the window's page and preload are. */
export interface WindowFiles {
  indexHtml: string;
  preload: string;
  /** `file://` URL of indexHtml: the only page trusted with the Hearth API. */
  appUrl: string;
}

/** Open the main window on the built UI; it shows once painted, so there is no white flash. */
export function createMainWindow(files: WindowFiles): BrowserWindow {
  const window = new BrowserWindow({
    width: 960,
    height: 720,
    minWidth: 480,
    minHeight: 400,
    show: false,
    title: 'Hearth',
    backgroundColor: '#16181d',
    webPreferences: appWebPreferences(files.preload),
  });
  window.once('ready-to-show', () => window.show());
  void window.loadFile(files.indexHtml);
  return window;
}

/** Deny new windows, foreign navigation, webviews and permissions for every page the app ever creates. */
export function hardenPages(appUrl: string): void {
  const openOutside = (url: string): void => {
    const target = externalLinkTarget(url);
    if (target) void shell.openExternal(target);
  };
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      openOutside(url);
      return windowOpenResponse;
    });
    contents.on('will-navigate', (event) => {
      if (isAllowedNavigation(event.url, appUrl)) return;
      event.preventDefault();
      openOutside(event.url);
    });
    contents.on('will-redirect', (event) => {
      if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  // Hearth needs no camera, notifications or the like (only clipboard writes); a compromised page gets none either.
  session.defaultSession.setPermissionRequestHandler((contents, permission, callback) =>
    callback(isAllowedPermission(permission, contents.getURL(), appUrl)),
  );
  session.defaultSession.setPermissionCheckHandler((contents, permission) => isAllowedPermission(permission, contents?.getURL(), appUrl));
}

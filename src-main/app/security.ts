// Every trust decision of the Electron shell as a pure function, so each is tested without Electron.

/** True when the app window may navigate to `url`: only to the app's own page (a reload). */
export function isAllowedNavigation(url: string, appUrl: string): boolean {
  return sameDocument(url, appUrl);
}

/** The URL to hand to the system browser for a link the user clicked, or null when it must not leave the app. */
export function externalLinkTarget(url: string): string | null {
  const parsed = parse(url);
  if (!parsed) return null;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  // Credentials in a link are a classic way to disguise its real host.
  if (parsed.username || parsed.password || !parsed.hostname) return null;
  return parsed.href;
}

/** True when an IPC message comes from a frame showing the app's own page. */
export function isTrustedSender(frameUrl: string | null | undefined, appUrl: string): boolean {
  return typeof frameUrl === 'string' && sameDocument(frameUrl, appUrl);
}

/** The answer to every `window.open`: no new window (an http(s) link goes to the system browser instead). */
export const windowOpenResponse = { action: 'deny' } as const;

/** The only permission a page may have: writing to the clipboard (copy buttons), and only the app page. */
export function isAllowedPermission(permission: string, pageUrl: string | null | undefined, appUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && isTrustedSender(pageUrl, appUrl);
}

/** The app window's webPreferences: sandboxed, isolated, no Node, nothing that loosens web security. */
export function appWebPreferences(preload: string) {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    // A file dropped outside the drop zone must not replace the app page.
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const;
}

/** The app page's Content-Security-Policy; the same text is in src-renderer/index.html. */
export const appContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

// Same scheme, host and path; query and hash do not change which document runs.
function sameDocument(url: string, appUrl: string): boolean {
  const a = parse(url);
  const b = parse(appUrl);
  if (!a || !b) return false;
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

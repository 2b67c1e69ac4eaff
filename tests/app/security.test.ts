import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appContentSecurityPolicy,
  appWebPreferences,
  externalLinkTarget,
  isAllowedNavigation,
  isAllowedPermission,
  isTrustedSender,
  windowOpenResponse,
} from '../../src-main/app/security.js';

const appUrl = 'file:///opt/Hearth/resources/app/dist/renderer/index.html';

describe('isAllowedNavigation', () => {
  it('allows reloading the app page, with or without query and hash', () => {
    expect(isAllowedNavigation(appUrl, appUrl)).toBe(true);
    expect(isAllowedNavigation(`${appUrl}?x=1#top`, appUrl)).toBe(true);
  });

  it('denies every other page', () => {
    for (const url of [
      'file:///etc/passwd',
      'file:///opt/Hearth/resources/app/dist/renderer/other.html',
      'file:///opt/Hearth/resources/app/dist/renderer/../../../../../etc/passwd',
      'file://evil-host/opt/Hearth/resources/app/dist/renderer/index.html',
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'about:blank',
      'not a url',
      '',
    ]) {
      expect(isAllowedNavigation(url, appUrl), url).toBe(false);
    }
  });
});

describe('externalLinkTarget', () => {
  it('passes http and https links on, normalised', () => {
    expect(externalLinkTarget('https://github.com/ggml-org/llama.cpp')).toBe('https://github.com/ggml-org/llama.cpp');
    expect(externalLinkTarget('HTTP://Example.COM')).toBe('http://example.com/');
  });

  it('keeps everything else inside', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,hi',
      'vbscript:msgbox',
      'smb://attacker/share',
      'ms-msdt:/id PCWDiagnostic',
      'https://user:pass@evil.example/',
      'https://github.com@evil.example/',
      'http://',
      'relative/path',
      '',
    ]) {
      expect(externalLinkTarget(url), url).toBeNull();
    }
  });
});

describe('isTrustedSender', () => {
  it('trusts only frames showing the app page', () => {
    expect(isTrustedSender(appUrl, appUrl)).toBe(true);
    expect(isTrustedSender(`${appUrl}#devices`, appUrl)).toBe(true);
  });

  it('distrusts missing frames and every other origin', () => {
    for (const url of [
      null,
      undefined,
      '',
      'file:///tmp/evil.html',
      'http://127.0.0.1.evil.com/index.html',
      'http://localhost:5173/index.html',
      'https://opt/Hearth/resources/app/dist/renderer/index.html',
      'about:blank',
      'data:text/html,<script>hearth.getStatus()</script>',
      'javascript:void 0',
    ]) {
      expect(isTrustedSender(url, appUrl), String(url)).toBe(false);
    }
  });

  it('does not trust lookalike hosts when the app is served over http', () => {
    const served = 'http://127.0.0.1:5173/index.html';
    expect(isTrustedSender(served, served)).toBe(true);
    expect(isTrustedSender('http://127.0.0.1.evil.com:5173/index.html', served)).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:5174/index.html', served)).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:5173@evil.com/index.html', served)).toBe(false);
  });
});

describe('appContentSecurityPolicy', () => {
  it('is what index.html declares, and allows no inline or remote code', () => {
    const html = fs.readFileSync(new URL('../../src-renderer/index.html', import.meta.url), 'utf8');
    const declared = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(declared).toBe(appContentSecurityPolicy);
    expect(appContentSecurityPolicy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(appContentSecurityPolicy).toContain("script-src 'self'");
  });
});

describe('windowOpenResponse', () => {
  it('denies every new window', () => {
    expect(windowOpenResponse).toEqual({ action: 'deny' });
  });
});

describe('isAllowedPermission', () => {
  it('lets only the app page write to the clipboard', () => {
    expect(isAllowedPermission('clipboard-sanitized-write', appUrl, appUrl)).toBe(true);
    expect(isAllowedPermission('clipboard-sanitized-write', 'https://evil.example/', appUrl)).toBe(false);
    expect(isAllowedPermission('clipboard-sanitized-write', null, appUrl)).toBe(false);
  });

  it('denies the app page everything else', () => {
    for (const permission of ['clipboard-read', 'media', 'notifications', 'geolocation', 'openExternal', 'fileSystem', 'hid', 'usb', 'unknown']) {
      expect(isAllowedPermission(permission, appUrl, appUrl), permission).toBe(false);
    }
  });
});

describe('appWebPreferences', () => {
  it('sandboxes and isolates the page, with no Node anywhere in it', () => {
    const preferences = appWebPreferences('/opt/Hearth/preload.cjs');
    expect(preferences).toMatchObject({
      preload: '/opt/Hearth/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    // Nothing that would loosen those slips in beside them.
    expect(Object.keys(preferences)).not.toContain('enableBlinkFeatures');
    expect(Object.keys(preferences)).not.toContain('additionalArguments');
  });
});

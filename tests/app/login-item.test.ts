import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { desktopEntry, launchCommand, loginItemAdapter, startedHidden, type LoginItemHost } from '../../src-main/app/login-item.js';

// Stands in for Electron's app: records what the login item was set to, per path and args as Windows keys it.
function host(options: { isPackaged?: boolean; wasOpenedAtLogin?: boolean } = {}) {
  const entries = new Map<string, boolean>();
  const set: unknown[] = [];
  const key = (entry: { path?: string; args?: string[] } = {}) => JSON.stringify([entry.path ?? null, entry.args ?? []]);
  const app: LoginItemHost = {
    isPackaged: options.isPackaged ?? true,
    getAppPath: () => '/src/hearth',
    getLoginItemSettings: (entry) => ({ openAtLogin: entries.get(key(entry)) ?? false, wasOpenedAtLogin: options.wasOpenedAtLogin ?? false }),
    setLoginItemSettings: (settings) => {
      set.push(settings);
      entries.set(key(settings), settings.openAtLogin);
    },
  };
  return { app, set };
}

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('loginItemAdapter', () => {
  it('on Windows registers the executable with the hidden flag, and reads the same entry back', () => {
    const { app, set } = host();
    const item = loginItemAdapter(app, { platform: 'win32', env: {}, execPath: 'C:\\Hearth\\Hearth.exe' });
    expect(item.get()).toBe(false);
    item.set(true);
    expect(set).toEqual([{ openAtLogin: true, path: 'C:\\Hearth\\Hearth.exe', args: ['--hidden'] }]);
    expect(item.get()).toBe(true);
    item.set(false);
    expect(item.get()).toBe(false);
  });

  it('on macOS sets only openAtLogin', () => {
    const { app, set } = host();
    const item = loginItemAdapter(app, { platform: 'darwin', env: {}, execPath: '/Applications/Hearth.app/Contents/MacOS/Hearth' });
    item.set(true);
    expect(set).toEqual([{ openAtLogin: true }]);
    expect(item.get()).toBe(true);
  });

  it('on Linux writes and removes an XDG autostart entry for the AppImage', () => {
    const config = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-autostart-'));
    temporary.push(config);
    const { app, set } = host();
    const item = loginItemAdapter(app, { platform: 'linux', env: { XDG_CONFIG_HOME: config, APPIMAGE: '/home/me/Apps/Hearth 0.1.AppImage' }, execPath: '/tmp/.mount_x/hearth' });
    const file = path.join(config, 'autostart', 'hearth.desktop');
    expect(item.get()).toBe(false);
    item.set(true);
    expect(item.get()).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toContain('\nExec="/home/me/Apps/Hearth 0.1.AppImage" --hidden\n');
    item.set(false);
    expect(fs.existsSync(file)).toBe(false);
    expect(item.get()).toBe(false);
    item.set(false);
    // Electron's own login items do nothing on Linux: they are never used there.
    expect(set).toEqual([]);
  });
});

describe('launchCommand', () => {
  it('starts a packaged app by its executable, an unpackaged one with its folder', () => {
    expect(launchCommand(host().app, '/opt/Hearth/hearth', {})).toEqual(['/opt/Hearth/hearth', '--hidden']);
    expect(launchCommand(host({ isPackaged: false }).app, '/src/node_modules/electron/dist/electron', {})).toEqual([
      '/src/node_modules/electron/dist/electron',
      '/src/hearth',
      '--hidden',
    ]);
  });
});

describe('desktopEntry', () => {
  it('quotes and escapes Exec arguments as the desktop entry spec says', () => {
    const exec = (command: string[]) => /\nExec=(.*)\n/.exec(desktopEntry(command))?.[1];
    expect(exec(['/opt/Hearth/hearth', '--hidden'])).toBe('/opt/Hearth/hearth --hidden');
    expect(exec(['/opt/My Apps/hearth'])).toBe('"/opt/My Apps/hearth"');
    expect(exec(['/opt/100%/hearth'])).toBe('/opt/100%%/hearth');
    expect(exec(['/opt/$HOME/"x"'])).toBe('"/opt/\\\\$HOME/\\\\"x\\\\""');
    expect(desktopEntry(['hearth'])).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Hearth\n/);
  });
});

describe('startedHidden', () => {
  it('is true with the hidden flag, or on macOS when opened at login', () => {
    expect(startedHidden(['/opt/Hearth/hearth', '--hidden'], host().app, 'linux')).toBe(true);
    expect(startedHidden(['/opt/Hearth/hearth'], host().app, 'linux')).toBe(false);
    expect(startedHidden(['/Applications/Hearth.app'], host({ wasOpenedAtLogin: true }).app, 'darwin')).toBe(true);
    expect(startedHidden(['/Applications/Hearth.app'], host({ wasOpenedAtLogin: false }).app, 'darwin')).toBe(false);
    // Only macOS answers wasOpenedAtLogin.
    expect(startedHidden(['C:\\Hearth\\Hearth.exe'], host({ wasOpenedAtLogin: true }).app, 'win32')).toBe(false);
  });
});

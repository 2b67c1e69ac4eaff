// Starting Hearth when the user logs in, hidden in the tray. Electron does this on macOS and
// Windows; on Linux it does nothing, so there Hearth writes an XDG autostart entry itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What the core calls to read and set "start at login". */
export interface LoginItem {
  get(): boolean;
  set(on: boolean): void;
}

/** The part of Electron's `app` this file uses (structural, so tests pass a stand-in). */
export interface LoginItemHost {
  readonly isPackaged: boolean;
  getAppPath(): string;
  getLoginItemSettings(options?: { path?: string; args?: string[] }): { openAtLogin: boolean; wasOpenedAtLogin?: boolean };
  setLoginItemSettings(settings: { openAtLogin: boolean; path?: string; args?: string[] }): void;
}

/** Where the adapter looks; each defaults to this process's. */
export interface LoginItemOptions {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  execPath?: string;
}

/** The flag a start at login carries, so the app opens in the tray without a window. */
export const HIDDEN_FLAG = '--hidden';

/** "Start at login" for this platform, for `HearthCore.start({ loginItem })`. */
export function loginItemAdapter(app: LoginItemHost, options: LoginItemOptions = {}): LoginItem {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const [command = '', ...args] = launchCommand(app, options.execPath ?? process.execPath, env);
  if (platform === 'linux' || platform === 'freebsd') {
    const file = path.join(autostartDir(env), 'hearth.desktop');
    return {
      get: () => fs.existsSync(file),
      set(on) {
        if (!on) return fs.rmSync(file, { force: true });
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, desktopEntry([command, ...args]));
      },
    };
  }
  // Windows compares path and args to find its entry, so both go to get as well as set; macOS
  // takes no arguments and reports `wasOpenedAtLogin` instead.
  const entry = platform === 'win32' ? { path: command, args } : {};
  return {
    get: () => app.getLoginItemSettings(entry).openAtLogin,
    set: (on) => app.setLoginItemSettings({ openAtLogin: on, ...entry }),
  };
}

/** True when this start came from the login item: open only the tray. */
export function startedHidden(argv: readonly string[], app: LoginItemHost, platform: NodeJS.Platform = process.platform): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}

/** The command that starts this app hidden: the AppImage or executable, the app folder when unpackaged, the flag. */
export function launchCommand(app: LoginItemHost, execPath: string, env: NodeJS.ProcessEnv): string[] {
  // Inside an AppImage execPath is a temporary mount; APPIMAGE is the file the user keeps.
  const executable = env.APPIMAGE || execPath;
  return [executable, ...(app.isPackaged ? [] : [app.getAppPath()]), HIDDEN_FLAG];
}

/** An XDG autostart entry running `command` (https://specifications.freedesktop.org/autostart-spec/latest/). */
export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Hearth',
    'Comment=Offer this GPU to the Hearth cluster',
    `Exec=${command.map(quoteExecArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

function autostartDir(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(config, 'autostart');
}

// Exec quoting of the desktop entry spec: double % (a field code otherwise), quote arguments with
// reserved characters escaping " ` $ \ inside, then escape every backslash again as the file's
// string values do.
function quoteExecArgument(argument: string): string {
  const escaped = argument.replaceAll('%', '%%');
  if (!/[\s"'\\><~|&;$*?#()`]/.test(escaped)) return escaped;
  return `"${escaped.replace(/["`$\\]/g, '\\$&')}"`.replaceAll('\\', '\\\\');
}

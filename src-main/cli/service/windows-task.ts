import path from 'node:path';
import { HearthError } from '../../core/base/errors.js';

/** The scheduled task's name (in a folder of its own in Task Scheduler). */
export const WINDOWS_TASK_NAME = 'Hearth\\Worker';

/** schtasks takes at most this many characters after /TR. */
const TASK_RUN_LIMIT = 261;

/** What `windowsLauncher` writes. */
export interface WindowsLauncherOptions {
  /** Program and arguments; the program an absolute path. */
  command: string[];
  env?: Record<string, string>;
  /** Where the worker's output goes (both streams, appended). */
  logFile: string;
}

/**
 * The batch file the task runs: the variables, then the worker with its output appended to
 * `logFile` (a task has no journal). A file, not the command itself, because /TR holds at most
 * 261 characters.
 */
export function windowsLauncher(options: WindowsLauncherOptions): string {
  const env = Object.entries(options.env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new HearthError('service', `"${name}" is not an environment variable name`);
    if (value.includes('"')) throw new HearthError('service', `${name}=${value} holds a double quote, which a batch file's set cannot carry`);
    return `set "${name}=${batchText(value)}"`;
  });
  return [
    '@echo off',
    'rem Hearth worker, run at logon by the scheduled task Hearth\\Worker (hearth worker --install-service).',
    ...env,
    `${options.command.map(windowsArg).join(' ')} >> ${windowsArg(options.logFile)} 2>&1`,
    '',
  ].join('\r\n');
}

/** schtasks' arguments to register the task: at every logon, as this user, running the launcher; /F replaces an older one. */
export function schtasksCreateArgs(launcher: string): string[] {
  const run = `"${launcher}"`;
  if (run.length > TASK_RUN_LIMIT) throw new HearthError('service', `the launcher's path is longer than schtasks accepts (${TASK_RUN_LIMIT} characters): ${launcher}`);
  return ['/Create', '/SC', 'ONLOGON', '/TN', WINDOWS_TASK_NAME, '/TR', run, '/F'];
}

/** schtasks' arguments to start the task now, stop it, and remove it. */
export const schtasksArgs = {
  run: ['/Run', '/TN', WINDOWS_TASK_NAME],
  end: ['/End', '/TN', WINDOWS_TASK_NAME],
  delete: ['/Delete', '/TN', WINDOWS_TASK_NAME, '/F'],
} as const;

/** The launcher and log on Windows: the launcher in Hearth's data folder, the log in %LOCALAPPDATA%\Hearth\Logs. */
export function windowsPaths(dataDir: string, home: string, env: Record<string, string | undefined> = {}): { launcher: string; logFile: string } {
  const local = env.LOCALAPPDATA ?? path.win32.join(home, 'AppData', 'Local');
  return { launcher: path.win32.join(dataDir, 'hearth-worker.cmd'), logFile: path.win32.join(local, 'Hearth', 'Logs', 'worker.log') };
}

/**
 * One argument on a batch-file line: bare when plain, else double-quoted so cmd's `& | < > ^`
 * stay literal; backslashes before the closing quote doubled (the C runtime's rule); `%` doubled
 * (cmd expands it even inside quotes).
 */
export function windowsArg(arg: string): string {
  if (arg.includes('"')) throw new HearthError('service', `${arg} holds a double quote, which a Windows command line cannot pass through cmd`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(arg)) throw new HearthError('service', `${JSON.stringify(arg)} holds a control character, which a batch file cannot carry`);
  if (/^[A-Za-z0-9_\-.:\\/=,+@]+$/.test(arg)) return arg;
  return `"${batchText(arg).replace(/(\\+)$/, '$1$1')}"`;
}

function batchText(text: string): string {
  return text.replaceAll('%', '%%');
}

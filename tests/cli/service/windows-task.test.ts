import { describe, expect, it } from 'vitest';
import { schtasksArgs, schtasksCreateArgs, windowsArg, windowsLauncher, windowsPaths } from '../../../src-main/cli/service/windows-task.js';

describe('the Windows scheduled task', () => {
  it('registers Hearth\\Worker at logon, running the launcher (quoted), replacing an older task', () => {
    expect(schtasksCreateArgs('C:\\Users\\A B\\AppData\\Roaming\\Hearth\\hearth-worker.cmd')).toEqual([
      '/Create', '/SC', 'ONLOGON', '/TN', 'Hearth\\Worker', '/TR', '"C:\\Users\\A B\\AppData\\Roaming\\Hearth\\hearth-worker.cmd"', '/F',
    ]);
    expect(schtasksArgs.run).toEqual(['/Run', '/TN', 'Hearth\\Worker']);
    expect(schtasksArgs.delete).toEqual(['/Delete', '/TN', 'Hearth\\Worker', '/F']);
  });

  it('refuses a launcher path longer than /TR takes', () => {
    expect(() => schtasksCreateArgs(`C:\\${'x'.repeat(300)}.cmd`)).toThrow(/longer than schtasks accepts/);
  });

  it('writes a batch file: variables, then the worker with its output appended to the log, CRLF', () => {
    const text = windowsLauncher({
      command: ['C:\\Program Files\\nodejs\\node.exe', 'C:\\hearth\\bin\\hearth.js', 'worker', '--models', 'D:\\my models\\', '--cache-max', '200G'],
      env: { HEARTH_DATA_DIR: 'D:\\hearth 100%' },
      logFile: 'C:\\Users\\a\\AppData\\Local\\Hearth\\Logs\\worker.log',
    });
    expect(text.split('\r\n')).toEqual([
      '@echo off',
      'rem Hearth worker, run at logon by the scheduled task Hearth\\Worker (hearth worker --install-service).',
      'set "HEARTH_DATA_DIR=D:\\hearth 100%%"',
      '"C:\\Program Files\\nodejs\\node.exe" C:\\hearth\\bin\\hearth.js worker --models "D:\\my models\\\\" --cache-max 200G >> C:\\Users\\a\\AppData\\Local\\Hearth\\Logs\\worker.log 2>&1',
      '',
    ]);
  });

  it('quotes cmd\'s special characters, doubles %, and refuses what cmd cannot pass', () => {
    expect(windowsArg('R&D|<x>^')).toBe('"R&D|<x>^"');
    expect(windowsArg('50%')).toBe('"50%%"');
    expect(windowsArg('')).toBe('""');
    expect(() => windowsArg('a"b')).toThrow(/double quote/);
    expect(() => windowsArg('a\nb')).toThrow(/control character/);
  });

  it('keeps the launcher in the data folder and the log in %LOCALAPPDATA%\\Hearth\\Logs', () => {
    expect(windowsPaths('C:\\Users\\a\\AppData\\Roaming\\Hearth', 'C:\\Users\\a', { LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' })).toEqual({
      launcher: 'C:\\Users\\a\\AppData\\Roaming\\Hearth\\hearth-worker.cmd',
      logFile: 'C:\\Users\\a\\AppData\\Local\\Hearth\\Logs\\worker.log',
    });
  });
});

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findOnPath } from '../../../src-main/core/native/toolchain.js';
import { launchctlArgs, launchdPaths, launchdPlist } from '../../../src-main/cli/service/launchd-plist.js';

const command = ['/opt/homebrew/bin/node', '/Users/a/My Hearth/bin/hearth.js', 'worker', '--models', '/Volumes/R&D <models>'];
const plist = launchdPlist({ command, env: { HEARTH_DATA_DIR: '/Users/a/data' }, logFile: '/Users/a/Library/Logs/Hearth/worker.log' });

describe('launchdPlist', () => {
  it('lists the program and its arguments, one string each, XML-escaped', () => {
    expect(plist).toContain('<string>/Users/a/My Hearth/bin/hearth.js</string>');
    expect(plist).toContain('<string>/Volumes/R&amp;D &lt;models&gt;</string>');
    expect(plist.match(/<array>[\s\S]*<\/array>/)![0].match(/<string>/g)).toHaveLength(command.length);
  });

  it('starts at load, restarts after a failure, and sends both streams to the log', () => {
    expect(plist).toMatch(/<key>Label<\/key>\s*<string>org\.hearth\.worker<\/string>/);
    expect(plist).toMatch(/<key>RunAtLoad<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>\s*<\/dict>/);
    expect(plist).toMatch(/<key>StandardOutPath<\/key>\s*<string>\/Users\/a\/Library\/Logs\/Hearth\/worker\.log<\/string>/);
    expect(plist).toMatch(/<key>StandardErrorPath<\/key>\s*<string>\/Users\/a\/Library\/Logs\/Hearth\/worker\.log<\/string>/);
    expect(plist).toMatch(/<key>EnvironmentVariables<\/key>\s*<dict>\s*<key>HEARTH_DATA_DIR<\/key>\s*<string>\/Users\/a\/data<\/string>/);
    expect(launchdPlist({ command, logFile: '/l' })).not.toContain('EnvironmentVariables');
  });

  it('lives in ~/Library/LaunchAgents, logs in ~/Library/Logs/Hearth, and loads into the user\'s GUI session', () => {
    expect(launchdPaths('/Users/a')).toEqual({ plist: '/Users/a/Library/LaunchAgents/org.hearth.worker.plist', logFile: '/Users/a/Library/Logs/Hearth/worker.log' });
    expect(launchctlArgs(501, '/p.plist')).toEqual({ bootstrap: ['bootstrap', 'gui/501', '/p.plist'], bootout: ['bootout', 'gui/501/org.hearth.worker'] });
  });

  // A real plist parser where one is at hand (Python's plistlib reads what launchd reads).
  it.runIf(findOnPath(['python3']) !== undefined)('parses as a property list with the same values', () => {
    const parsed = spawnSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: plist, encoding: 'utf8' });
    expect(parsed.status, parsed.stderr).toBe(0);
    expect(JSON.parse(parsed.stdout)).toEqual({
      Label: 'org.hearth.worker',
      ProgramArguments: command,
      EnvironmentVariables: { HEARTH_DATA_DIR: '/Users/a/data' },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      StandardOutPath: '/Users/a/Library/Logs/Hearth/worker.log',
      StandardErrorPath: '/Users/a/Library/Logs/Hearth/worker.log',
    });
  });
});

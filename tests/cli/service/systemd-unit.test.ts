import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findOnPath } from '../../../src-main/core/native/toolchain.js';
import { systemdEnvironmentWord, systemdExecWord, systemdUnit, systemdUnitPath } from '../../../src-main/cli/service/systemd-unit.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/models.js';

const run = promisify(execFile);

/** The unit's settings without comments and blank lines: what systemd reads. */
function settings(unit: string): string[] {
  return unit.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

describe('systemdUnit', () => {
  it('writes a system unit that runs the worker as the given user, restarted on failure, after the network', () => {
    const unit = systemdUnit({ command: ['/usr/bin/node', '/opt/hearth/bin/hearth.js', 'worker', '--cache-max', '200G'], scope: 'system', user: 'alice', env: { HEARTH_DATA_DIR: '/srv/hearth' } });
    expect(settings(unit)).toEqual([
      '[Unit]',
      'Description=Hearth worker: this machine\'s devices as a cached llama.cpp RPC worker',
      'After=network-online.target',
      'Wants=network-online.target',
      '[Service]',
      'Type=simple',
      'User=alice',
      'Environment="HEARTH_DATA_DIR=/srv/hearth"',
      'ExecStart=/usr/bin/node /opt/hearth/bin/hearth.js worker --cache-max 200G',
      'Restart=on-failure',
      'RestartSec=5',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
    // Output goes to the journal: nothing redirects it.
    expect(unit).not.toMatch(/StandardOutput|StandardError/);
  });

  it('writes a user unit without User=, wanted by the user\'s default target', () => {
    const lines = settings(systemdUnit({ command: ['/usr/bin/node', '/h/bin/hearth.js', 'worker'], scope: 'user' }));
    expect(lines.some((line) => line.startsWith('User='))).toBe(false);
    expect(lines).toContain('WantedBy=default.target');
    expect(lines.some((line) => line.startsWith('Environment='))).toBe(false);
  });

  it('refuses what it cannot write: a relative program, a system unit without a user, a bad user name', () => {
    expect(() => systemdUnit({ command: ['node', 'hearth.js'], scope: 'user' })).toThrow(/absolute/);
    expect(() => systemdUnit({ command: ['/usr/bin/node'], scope: 'system' })).toThrow(/user/);
    expect(() => systemdUnit({ command: ['/usr/bin/node'], scope: 'system', user: 'al ice' })).toThrow(/user name/);
  });

  it('is what resources/linux/hearth-worker.service documents, for its defaults', () => {
    const template = readFileSync(path.join(REPO_ROOT, 'resources', 'linux', 'hearth-worker.service'), 'utf8');
    const documented = systemdUnit({ command: ['/usr/bin/node', '/opt/hearth/bin/hearth.js', 'worker'], scope: 'system', user: 'hearth' });
    expect(settings(template)).toEqual(settings(documented));
  });
});

describe('ExecStart= and Environment= quoting (systemd.service(5), "Command lines")', () => {
  it('leaves plain words bare', () => {
    expect(systemdExecWord('/usr/bin/node', true)).toBe('/usr/bin/node');
    expect(systemdExecWord('--link-host=10.0.0.2,x@y:1+2', false)).toBe('--link-host=10.0.0.2,x@y:1+2');
  });

  it('double-quotes words with spaces, quotes or backslashes, with C escapes inside', () => {
    expect(systemdExecWord('/home/a b/.nvm/node', true)).toBe('"/home/a b/.nvm/node"');
    expect(systemdExecWord('/m/it\'s "x"', false)).toBe('"/m/it\'s \\"x\\""');
    expect(systemdExecWord('C:\\odd', false)).toBe('"C:\\\\odd"');
    expect(systemdExecWord('', false)).toBe('""');
  });

  it('doubles % everywhere (specifiers) and $ in arguments only (the program is never substituted)', () => {
    expect(systemdExecWord('/opt/100%/node', true)).toBe('/opt/100%%/node');
    expect(systemdExecWord('/opt/$x/node', true)).toBe('/opt/$x/node');
    expect(systemdExecWord('/models/$HOME %h', false)).toBe('"/models/$$HOME %%h"');
  });

  it('quotes a lone semicolon, which would otherwise start another command', () => {
    expect(systemdExecWord(';', false)).toBe('";"');
  });

  it('refuses control characters, which no unit line can hold', () => {
    expect(() => systemdExecWord('a\nExecStartPre=/bin/evil', false)).toThrow(/control character/);
    expect(() => systemdExecWord('a\tb', false)).toThrow(/control character/);
    expect(() => systemdEnvironmentWord('HEARTH_DATA_DIR', 'a\nb')).toThrow(/control character/);
  });

  it('quotes a whole Environment= assignment, doubling % and keeping $ (not expanded there)', () => {
    expect(systemdEnvironmentWord('HEARTH_DATA_DIR', '/srv/my "data" 100%$x\\')).toBe('"HEARTH_DATA_DIR=/srv/my \\"data\\" 100%%$x\\\\"');
    expect(() => systemdEnvironmentWord('BAD NAME', 'x')).toThrow(/environment variable/);
  });

  it('puts user units in $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user', () => {
    expect(systemdUnitPath('system', '/root')).toBe('/etc/systemd/system/hearth-worker.service');
    expect(systemdUnitPath('user', '/home/a')).toBe('/home/a/.config/systemd/user/hearth-worker.service');
    expect(systemdUnitPath('user', '/home/a', { XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/systemd/user/hearth-worker.service');
  });
});

// systemd's own parser, offline: `systemd-analyze verify` loads the unit and checks that the
// program ExecStart= names exists, so a program path split at its space fails it.
const hasAnalyze = findOnPath(['systemd-analyze']) !== undefined;
if (!hasAnalyze) console.log('Skipping the systemd-analyze checks: systemd-analyze is not installed (apt-get install systemd)');
describe.runIf(hasAnalyze)('systemd-analyze verify', () => {
  async function verify(unit: string): Promise<{ ok: boolean; output: string }> {
    const dir = scratchDir('hearth-unit-');
    const runtime = path.join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const file = path.join(dir, 'hearth-worker.service');
    writeFileSync(file, unit);
    try {
      const { stdout, stderr } = await run('systemd-analyze', ['verify', '--user', file], { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: runtime }, timeout: 30_000 });
      return { ok: true, output: stdout + stderr };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  }

  it('accepts a unit whose node lives under a path with spaces, % and $', async () => {
    const dir = path.join(scratchDir('hearth-node-'), 'my tools 100% $x');
    mkdirSync(dir);
    const node = path.join(dir, 'node');
    symlinkSync(process.execPath, node);
    const command = [node, '/opt/my hearth/bin/hearth.js', 'worker', '--models', '/srv/a "b"'];
    const good = await verify(systemdUnit({ command, scope: 'user', env: { HEARTH_DATA_DIR: '/srv/x y' } }));
    expect(good, good.output).toMatchObject({ ok: true });
    expect(good.output).not.toMatch(/ignoring|Unbalanced|not executable/i);
    // The control: the same unit with the path written bare is refused, so the check above means something.
    const bare = await verify(systemdUnit({ command: ['/usr/bin/true'], scope: 'user' }).replace('ExecStart=/usr/bin/true', `ExecStart=${node.replaceAll('%', '%%')}`));
    expect(bare.ok).toBe(false);
    expect(bare.output).toMatch(/not executable|No such file/);
  });
});

import { describe, expect, it } from 'vitest';
import { installWorkerService, uninstallWorkerService } from '../../../src-main/cli/service/install-service.js';
import type { ServiceContext } from '../../../src-main/cli/service/service-context.js';
import type { RunOutcome, ServiceRunner } from '../../../src-main/cli/service/service-runner.js';
import { serviceReportText } from '../../../src-main/cli/service/service-report.js';

// The installer's side effects at their boundary: systemctl, launchctl and schtasks cannot run
// here (no systemd as PID 1, not macOS, not Windows), so a recording runner stands in for them.

const spec = { command: ['/usr/bin/node', '/opt/hearth/bin/hearth.js', 'worker', '--cache-max', '200G'], env: {} };

interface Recorder extends ServiceRunner {
  files: Map<string, string>;
  dirs: string[];
  ran: string[];
}

function recorder(options: { present?: string[]; answer?: (line: string) => Partial<RunOutcome> } = {}): Recorder {
  const files = new Map<string, string>();
  const present = new Set(options.present ?? ['/run/systemd/system']);
  const runner: Recorder = {
    files,
    dirs: [],
    ran: [],
    exists: (file) => files.has(file) || present.has(file),
    async writeFile(file, text) {
      files.set(file, text);
    },
    async makeDir(dir) {
      runner.dirs.push(dir);
    },
    async removeFile(file) {
      return files.delete(file);
    },
    async run(program, args) {
      const line = [program, ...args].join(' ');
      runner.ran.push(line);
      return { code: 0, stdout: '', stderr: '', missing: false, ...options.answer?.(line) };
    },
  };
  return runner;
}

function context(runner: ServiceRunner, overrides: Partial<ServiceContext> = {}): ServiceContext {
  return { runner, platform: 'linux', uid: 1000, username: 'alice', home: '/home/alice', env: {}, dataDir: '/home/alice/.local/share/hearth', ...overrides };
}

describe('installing the worker under systemd', () => {
  it('as a user: writes a user unit, reloads, enables and starts it, and tells about lingering', async () => {
    const runner = recorder();
    const report = await installWorkerService(context(runner), spec);
    const file = '/home/alice/.config/systemd/user/hearth-worker.service';
    expect([...runner.files.keys()]).toEqual([file]);
    expect(runner.files.get(file)).toContain('ExecStart=/usr/bin/node /opt/hearth/bin/hearth.js worker --cache-max 200G');
    expect(runner.files.get(file)).not.toContain('User=');
    expect(runner.ran).toEqual(['systemctl --user daemon-reload', 'systemctl --user enable --now hearth-worker.service']);
    expect(report).toMatchObject({ scope: 'user', user: 'alice', running: true, logs: 'journalctl --user -u hearth-worker -f' });
    expect(report.notes.join('\n')).toContain('loginctl enable-linger alice');
    expect(serviceReportText(report)).toContain('journalctl --user -u hearth-worker -f');
  });

  it('as a user who already lingers: no linger note', async () => {
    const report = await installWorkerService(context(recorder({ present: ['/run/systemd/system', '/var/lib/systemd/linger/alice'] })), spec);
    expect(report.notes.join('\n')).not.toContain('enable-linger');
  });

  it('under sudo: a system unit that runs as the user who ran sudo', async () => {
    const runner = recorder();
    const report = await installWorkerService(context(runner, { uid: 0, username: 'root', home: '/root', env: { SUDO_USER: 'alice' } }), spec);
    const unit = runner.files.get('/etc/systemd/system/hearth-worker.service');
    expect(unit).toContain('User=alice\n');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(runner.ran).toEqual(['systemctl daemon-reload', 'systemctl enable --now hearth-worker.service']);
    expect(report).toMatchObject({ scope: 'system', user: 'alice', running: true, logs: 'journalctl -u hearth-worker -f' });
  });

  it('as root without sudo: runs as root, and says what that means', async () => {
    const runner = recorder();
    const report = await installWorkerService(context(runner, { uid: 0, username: 'root', home: '/root' }), spec);
    expect(runner.files.get('/etc/systemd/system/hearth-worker.service')).toContain('User=root\n');
    expect(report.notes.join('\n')).toMatch(/runs as root, with root's cache and cluster key/);
  });

  it('where systemd is not running: writes the unit, runs nothing, and says how to start it', async () => {
    const runner = recorder({ present: [] });
    const report = await installWorkerService(context(runner), spec);
    expect(runner.files.size).toBe(1);
    expect(runner.ran).toEqual([]);
    expect(report).toMatchObject({ running: false, commands: [] });
    expect(report.failed).toBeUndefined();
    expect(report.notes[0]).toBe('systemd is not running on this machine (no /run/systemd/system), so nothing was started. On a machine running systemd, start it with: systemctl --user daemon-reload && systemctl --user enable --now hearth-worker.service');
    expect(report.notes[1]).toBe('Or run the worker directly: /usr/bin/node /opt/hearth/bin/hearth.js worker --cache-max 200G');
  });

  it('where systemctl is missing: writes the unit and says so', async () => {
    const report = await installWorkerService(context(recorder({ answer: () => ({ code: null, missing: true }) })), spec);
    expect(report).toMatchObject({ running: false, commands: [] });
    expect(report.notes[0]).toMatch(/^systemctl is not installed, so nothing was started/);
  });

  it('when systemctl fails: stops there, reports its words and exits 1 (failed set)', async () => {
    const runner = recorder({ answer: (line) => (line.includes('enable') ? { code: 1, stderr: 'Failed to connect to bus: No medium found\n' } : {}) });
    const report = await installWorkerService(context(runner), spec);
    expect(report.failed).toEqual({ command: 'systemctl --user enable --now hearth-worker.service', message: 'Failed to connect to bus: No medium found' });
    expect(report.running).toBe(false);
    expect(report.notes.join('\n')).toMatch(/XDG_RUNTIME_DIR/);
  });

  it('uninstalls: disables and stops it, removes the unit, reloads', async () => {
    const runner = recorder();
    await installWorkerService(context(runner), spec);
    runner.ran.length = 0;
    const report = await uninstallWorkerService(context(runner));
    expect(runner.ran).toEqual(['systemctl --user disable --now hearth-worker.service', 'systemctl --user daemon-reload']);
    expect(runner.files.size).toBe(0);
    expect(report).toMatchObject({ action: 'uninstall', changed: true });
    const again = await uninstallWorkerService(context(runner));
    expect(again.changed).toBe(false);
    expect(serviceReportText(again)).toMatch(/nothing to remove/);
  });

  it('keeps the unit when systemctl cannot disable it, so no enabled link is left pointing nowhere', async () => {
    const runner = recorder();
    await installWorkerService(context(runner), spec);
    const failing = { ...runner, run: async () => ({ code: 1, stdout: '', stderr: 'Access denied', missing: false }) };
    const report = await uninstallWorkerService(context(failing));
    expect(report.failed?.message).toBe('Access denied');
    expect(runner.files.size).toBe(1);
  });
});

describe('installing the worker under launchd (macOS)', () => {
  const mac = (runner: ServiceRunner) => context(runner, { platform: 'darwin', uid: 501, home: '/Users/alice' });

  it('writes the agent, makes the log folder, replaces a loaded agent and bootstraps it into the GUI session', async () => {
    const runner = recorder();
    const report = await installWorkerService(mac(runner), spec);
    expect([...runner.files.keys()]).toEqual(['/Users/alice/Library/LaunchAgents/org.hearth.worker.plist']);
    expect(runner.dirs).toEqual(['/Users/alice/Library/Logs/Hearth']);
    expect(runner.ran).toEqual(['launchctl bootout gui/501/org.hearth.worker', 'launchctl bootstrap gui/501 /Users/alice/Library/LaunchAgents/org.hearth.worker.plist']);
    expect(report).toMatchObject({ manager: 'launchd', running: true, logs: 'tail -f /Users/alice/Library/Logs/Hearth/worker.log' });
  });

  it('a failed bootstrap is reported; an agent that was not loaded before is not', async () => {
    const runner = recorder({ answer: (line) => (line.includes('bootout') ? { code: 3, stderr: 'No such process' } : line.includes('bootstrap') ? { code: 5, stderr: 'Bootstrap failed: 5: Input/output error' } : {}) });
    const report = await installWorkerService(mac(runner), spec);
    expect(report.failed?.message).toBe('Bootstrap failed: 5: Input/output error');
  });

  it('uninstalls: boots it out and removes the plist', async () => {
    const runner = recorder();
    await installWorkerService(mac(runner), spec);
    runner.ran.length = 0;
    expect(await uninstallWorkerService(mac(runner))).toMatchObject({ changed: true });
    expect(runner.ran).toEqual(['launchctl bootout gui/501/org.hearth.worker']);
    expect(runner.files.size).toBe(0);
  });
});

describe('installing the worker as a scheduled task (Windows)', () => {
  const windows = (runner: ServiceRunner) => context(runner, {
    platform: 'win32', uid: -1, home: 'C:\\Users\\alice', dataDir: 'C:\\Users\\alice\\AppData\\Roaming\\Hearth', env: { LOCALAPPDATA: 'C:\\Users\\alice\\AppData\\Local' },
  });
  const winSpec = { command: ['C:\\Program Files\\nodejs\\node.exe', 'C:\\hearth\\bin\\hearth.js', 'worker'], env: {} };

  it('writes the launcher, registers the task at logon and runs it now', async () => {
    const runner = recorder();
    const report = await installWorkerService(windows(runner), winSpec);
    expect([...runner.files.keys()]).toEqual(['C:\\Users\\alice\\AppData\\Roaming\\Hearth\\hearth-worker.cmd']);
    expect(runner.dirs).toEqual(['C:\\Users\\alice\\AppData\\Local\\Hearth\\Logs']);
    expect(runner.ran).toEqual([
      'schtasks /Create /SC ONLOGON /TN Hearth\\Worker /TR "C:\\Users\\alice\\AppData\\Roaming\\Hearth\\hearth-worker.cmd" /F',
      'schtasks /Run /TN Hearth\\Worker',
    ]);
    expect(report).toMatchObject({ manager: 'schtasks', running: true });
  });

  it('a refused registration is reported with what to try, and the task is not run', async () => {
    const runner = recorder({ answer: (line) => (line.includes('/Create') ? { code: 1, stderr: 'ERROR: Access is denied.' } : {}) });
    const report = await installWorkerService(windows(runner), winSpec);
    expect(report.failed?.message).toBe('ERROR: Access is denied.');
    expect(runner.ran).toHaveLength(1);
    expect(report.notes.join('\n')).toMatch(/Run as administrator/);
  });

  it('uninstalls: ends and deletes the task, removes the launcher', async () => {
    const runner = recorder();
    await installWorkerService(windows(runner), winSpec);
    runner.ran.length = 0;
    expect(await uninstallWorkerService(windows(runner))).toMatchObject({ changed: true });
    expect(runner.ran).toEqual(['schtasks /End /TN Hearth\\Worker', 'schtasks /Delete /TN Hearth\\Worker /F']);
    expect(runner.files.size).toBe(0);
  });
});

describe('other platforms', () => {
  it('are refused with what to do instead', () => {
    expect(() => installWorkerService(context(recorder(), { platform: 'freebsd' }), spec)).toThrow(/no service installer for freebsd/);
  });
});

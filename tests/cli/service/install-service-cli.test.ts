import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runHearth } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/models.js';

// The real command on this machine, where systemd is not PID 1 (a container, as CI is): it must
// write the user unit, say that systemd is not running and how to start it, and change nothing else.
const systemdRunning = existsSync('/run/systemd/system');
// Root would get a system unit in /etc: run it as "nobody", a user, as most people will.
const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];

function userHome(): string {
  const scratch = scratchDir('hearth-service-');
  chmodSync(scratch, 0o755);
  const home = path.join(scratch, 'home of nobody');
  mkdirSync(home);
  if (asUser.length > 0) chownSync(home, 65534, 65534);
  return home;
}

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const name of ['XDG_CONFIG_HOME', 'HEARTH_DATA_DIR', 'HEARTH_CACHE_DIR', 'SUDO_USER']) if (!(name in extra)) delete base[name];
  return base;
}

describe.skipIf(process.platform !== 'linux' || systemdRunning)('hearth worker --install-service where systemd is not running', () => {
  it('writes the user unit with the flags given, says systemd is not running, and removes it again', async () => {
    const home = userHome();
    const dataDir = path.join(home, 'hearth data');
    const installed = await runHearth(['worker', '--install-service', '--cache-dir', path.join(home, 'my cache'), '--cache-max', '50G', '--rpc-port', '50100', '--no-discovery'], {
      prefix: asUser, env: env(home, { HEARTH_DATA_DIR: dataDir }), cwd: home,
    });
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toBe('');
    const file = path.join(home, '.config', 'systemd', 'user', 'hearth-worker.service');
    const unit = readFileSync(file, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${path.join(REPO_ROOT, 'bin', 'hearth.js')} worker --cache-dir "${home}/my cache" --cache-max 50G --rpc-port 50100 --no-discovery\n`);
    expect(unit).toContain(`Environment="HEARTH_DATA_DIR=${dataDir}"\n`);
    expect(unit.split('\n').find((line) => line.startsWith('ExecStart='))).not.toMatch(/--(un)?install-service/);
    expect(installed.stdout).toContain(`Wrote the user unit ${file}`);
    expect(installed.stdout).toContain('systemd is not running on this machine (no /run/systemd/system), so nothing was started');
    expect(installed.stdout).toContain('systemctl --user daemon-reload && systemctl --user enable --now hearth-worker.service');
    // Nothing but the unit: no data or cache folder made, no worker started.
    expect(readdirSync(home, { recursive: true }).map(String).sort()).toEqual(['.config', '.config/systemd', '.config/systemd/user', '.config/systemd/user/hearth-worker.service']);

    const removed = await runHearth(['worker', '--uninstall-service', '--json'], { prefix: asUser, env: env(home), cwd: home });
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ action: 'uninstall', manager: 'systemd', scope: 'user', file, changed: true, running: false });
    expect(existsSync(file)).toBe(false);
  });

  it('answers with one JSON object under --json, and refuses both flags at once', async () => {
    const home = userHome();
    const installed = await runHearth(['worker', '--install-service', '--json'], { prefix: asUser, env: env(home), cwd: home });
    expect(installed.code, installed.stderr).toBe(0);
    const report = JSON.parse(installed.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ action: 'install', manager: 'systemd', scope: 'user', changed: true, running: false, commands: [] });
    expect(report.logs).toBeUndefined();

    const both = await runHearth(['worker', '--install-service', '--uninstall-service'], { prefix: asUser, env: env(home), cwd: home });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('hearth: give --install-service or --uninstall-service, not both\n');
  });

  it('refuses a bad flag before writing anything', async () => {
    const home = userHome();
    const result = await runHearth(['worker', '--install-service', '--cache-max', 'lots'], { prefix: asUser, env: env(home), cwd: home });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--cache-max takes a size/);
    expect(readdirSync(home)).toEqual([]);
  });
});

import path from 'node:path';
import type { ServiceContext } from './service-context.js';
import { shellLine, type ServiceReport } from './service-report.js';
import { SYSTEMD_UNIT_NAME, systemdUnit, systemdUnitPath, type SystemdScope } from './systemd-unit.js';
import type { WorkerServiceSpec } from './worker-service-spec.js';

/** Present only where systemd is PID 1 (sd_booted(3)); systemctl cannot work without it. */
const SYSTEMD_RUNNING = '/run/systemd/system';
const HEADER = '# Written by "hearth worker --install-service"; "hearth worker --uninstall-service" removes it.\n';

/**
 * The account a system unit runs the worker as: the user who ran sudo, else root. The worker
 * needs no privileges, and as that user it keeps the cache, cluster key and built tools that
 * user's own `hearth worker` has (systemd sets HOME from User=), owned by that user; as root it
 * would be a second machine identity with root-owned files in /root.
 */
export function systemUnitUser(env: Record<string, string | undefined>): string {
  const invoking = env.SUDO_USER;
  return invoking && invoking !== 'root' ? invoking : 'root';
}

/** Write hearth-worker.service (a system unit as root, a user unit otherwise), then enable and start it. */
export async function installSystemd(context: ServiceContext, spec: WorkerServiceSpec): Promise<ServiceReport> {
  const { runner } = context;
  const scope: SystemdScope = context.uid === 0 ? 'system' : 'user';
  const user = scope === 'system' ? systemUnitUser(context.env) : context.username;
  const file = systemdUnitPath(scope, context.home, context.env);
  await runner.writeFile(file, HEADER + systemdUnit({ command: spec.command, env: spec.env, scope, user: scope === 'system' ? user : undefined }));
  const report: ServiceReport = {
    action: 'install', manager: 'systemd', scope, user, file, changed: true, running: false, commands: [], notes: [],
    logs: `journalctl${scope === 'user' ? ' --user' : ''} -u hearth-worker -f`,
  };
  if (scope === 'system' && user === 'root') {
    report.notes.push('It runs as root, with root\'s cache and cluster key (/root/.cache/hearth, /root/.local/share/hearth): to run it as your own account, install it with sudo from that account, or without sudo as a user unit.');
  }
  if (scope === 'user' && !runner.exists(path.posix.join('/var/lib/systemd/linger', user))) {
    report.notes.push(`A user unit runs while you are logged in. To start it at boot and keep it running after you log out: loginctl enable-linger ${user}`);
  }
  const commands = [systemctl(scope, 'daemon-reload'), systemctl(scope, 'enable', '--now', SYSTEMD_UNIT_NAME)];
  const unavailable = await runAll(context, report, commands);
  if (unavailable) {
    report.notes.unshift(
      `${unavailable}, so nothing was started. On a machine running systemd, start it with: ${commands.map(shellLine).join(' && ')}`,
      `Or run the worker directly: ${shellLine(spec.command)}`,
    );
    delete report.logs;
  } else if (!report.failed) {
    report.running = true;
  } else if (scope === 'user') {
    report.notes.push('systemctl --user needs your own login session (not su or sudo): log in as that user, or set XDG_RUNTIME_DIR=/run/user/$(id -u).');
  }
  return report;
}

/** Disable and stop the unit, then remove it. */
export async function uninstallSystemd(context: ServiceContext): Promise<ServiceReport> {
  const scope: SystemdScope = context.uid === 0 ? 'system' : 'user';
  const file = systemdUnitPath(scope, context.home, context.env);
  const user = scope === 'system' ? systemUnitUser(context.env) : context.username;
  const report: ServiceReport = { action: 'uninstall', manager: 'systemd', scope, user, file, changed: false, running: false, commands: [], notes: [] };
  if (!context.runner.exists(file)) return report;
  const unavailable = await runAll(context, report, [systemctl(scope, 'disable', '--now', SYSTEMD_UNIT_NAME)]);
  if (unavailable) report.notes.push(`${unavailable}: removed the unit file only.`);
  if (report.failed) return report;
  report.changed = await context.runner.removeFile(file);
  if (context.runner.exists(SYSTEMD_RUNNING)) await runAll(context, report, [systemctl(scope, 'daemon-reload')]);
  return report;
}

function systemctl(scope: SystemdScope, ...args: string[]): string[] {
  return ['systemctl', ...(scope === 'user' ? ['--user'] : []), ...args];
}

/** Run each command until one fails (recorded in the report); says why none could run when systemd is not there. */
async function runAll(context: ServiceContext, report: ServiceReport, commands: string[][]): Promise<string | undefined> {
  if (!context.runner.exists(SYSTEMD_RUNNING)) return `systemd is not running on this machine (no ${SYSTEMD_RUNNING})`;
  for (const [program, ...args] of commands) {
    const outcome = await context.runner.run(program!, args);
    if (outcome.missing) return 'systemctl is not installed';
    report.commands.push(shellLine([program!, ...args]));
    if (outcome.code !== 0) {
      report.failed = { command: shellLine([program!, ...args]), message: (outcome.stderr.trim() || outcome.stdout.trim() || `exit code ${outcome.code}`).split('\n').slice(-3).join(' ') };
      return undefined;
    }
  }
  return undefined;
}

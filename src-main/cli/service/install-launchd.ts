import path from 'node:path';
import { launchctlArgs, launchdPaths, launchdPlist } from './launchd-plist.js';
import type { ServiceContext } from './service-context.js';
import { shellLine, type ServiceReport } from './service-report.js';
import type { WorkerServiceSpec } from './worker-service-spec.js';

/** Write ~/Library/LaunchAgents/org.hearth.worker.plist and load it into this user's session (replacing a loaded one). */
export async function installLaunchd(context: ServiceContext, spec: WorkerServiceSpec): Promise<ServiceReport> {
  const { plist, logFile } = launchdPaths(context.home);
  await context.runner.makeDir(path.dirname(logFile));
  await context.runner.writeFile(plist, launchdPlist({ command: spec.command, env: spec.env, logFile }));
  const args = launchctlArgs(context.uid, plist);
  const report: ServiceReport = {
    action: 'install', manager: 'launchd', user: context.username, file: plist, changed: true, running: false, commands: [],
    logs: shellLine(['tail', '-f', logFile]),
    notes: ['A launch agent starts at each login of this user; for a Mac that serves before anyone logs in, turn on automatic login.'],
  };
  // Not loaded yet is the usual answer: an older agent is replaced, nothing else is expected.
  await context.runner.run('launchctl', args.bootout);
  await run(context, report, args.bootstrap);
  report.running = !report.failed;
  return report;
}

/** Unload the agent and remove its plist. */
export async function uninstallLaunchd(context: ServiceContext): Promise<ServiceReport> {
  const { plist } = launchdPaths(context.home);
  const report: ServiceReport = { action: 'uninstall', manager: 'launchd', user: context.username, file: plist, changed: false, running: false, commands: [], notes: [] };
  if (!context.runner.exists(plist)) return report;
  // Already unloaded (stopped by hand) is fine: the plist still goes.
  await context.runner.run('launchctl', launchctlArgs(context.uid, plist).bootout);
  report.commands.push(shellLine(['launchctl', ...launchctlArgs(context.uid, plist).bootout]));
  report.changed = await context.runner.removeFile(plist);
  return report;
}

async function run(context: ServiceContext, report: ServiceReport, args: string[]): Promise<void> {
  const outcome = await context.runner.run('launchctl', args);
  const line = shellLine(['launchctl', ...args]);
  report.commands.push(line);
  if (outcome.code !== 0) report.failed = { command: line, message: outcome.missing ? 'launchctl was not found' : outcome.stderr.trim() || `exit code ${outcome.code}` };
}

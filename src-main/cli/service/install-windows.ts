import path from 'node:path';
import type { ServiceContext } from './service-context.js';
import type { ServiceReport } from './service-report.js';
import { schtasksArgs, schtasksCreateArgs, windowsLauncher, windowsPaths } from './windows-task.js';
import type { WorkerServiceSpec } from './worker-service-spec.js';

/** Write the launcher, register the Hearth\Worker task at logon, and start it now. */
export async function installWindows(context: ServiceContext, spec: WorkerServiceSpec): Promise<ServiceReport> {
  const { launcher, logFile } = windowsPaths(context.dataDir, context.home, context.env);
  await context.runner.makeDir(path.win32.dirname(logFile));
  await context.runner.writeFile(launcher, windowsLauncher({ command: spec.command, env: spec.env, logFile }));
  const report: ServiceReport = {
    action: 'install', manager: 'schtasks', user: context.username, file: launcher, changed: true, running: false, commands: [],
    logs: `Get-Content -Wait "${logFile}"`,
    notes: ['The task starts the worker at each logon, in a console window of its own: closing that window stops the worker.'],
  };
  if (await run(context, report, schtasksCreateArgs(launcher))) {
    report.notes.push('Registering a task that runs at logon may need an administrator: run the same command from a terminal opened with "Run as administrator".');
    return report;
  }
  if (!await run(context, report, [...schtasksArgs.run])) report.running = true;
  return report;
}

/** Stop and remove the task, then the launcher. */
export async function uninstallWindows(context: ServiceContext): Promise<ServiceReport> {
  const { launcher } = windowsPaths(context.dataDir, context.home, context.env);
  const report: ServiceReport = { action: 'uninstall', manager: 'schtasks', user: context.username, file: launcher, changed: false, running: false, commands: [], notes: [] };
  // Not running is the usual answer to /End.
  await context.runner.run('schtasks', [...schtasksArgs.end]);
  const deleted = await context.runner.run('schtasks', [...schtasksArgs.delete]);
  report.commands.push(`schtasks ${schtasksArgs.end.join(' ')}`, `schtasks ${schtasksArgs.delete.join(' ')}`);
  if (deleted.code !== 0) report.notes.push(`No task was removed: ${deleted.missing ? 'schtasks was not found' : deleted.stderr.trim() || `exit code ${deleted.code}`}`);
  const removed = await context.runner.removeFile(launcher);
  report.changed = removed || deleted.code === 0;
  return report;
}

/** Run schtasks; true when it failed (recorded in the report). */
async function run(context: ServiceContext, report: ServiceReport, args: string[]): Promise<boolean> {
  const outcome = await context.runner.run('schtasks', args);
  const line = `schtasks ${args.map((arg) => (/\s|"/.test(arg) ? `"${arg.replaceAll('"', '\\"')}"` : arg)).join(' ')}`;
  report.commands.push(line);
  if (outcome.code === 0) return false;
  report.failed = { command: line, message: outcome.missing ? 'schtasks was not found' : outcome.stderr.trim() || `exit code ${outcome.code}` };
  return true;
}

import os from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import { appRoot } from '../../core/base/app-root.js';
import { hearthPaths } from '../../core/base/paths.js';
import { usageError, type FlagValue } from '../command.js';
import type { CliOutput } from '../output.js';
import { installWorkerService, uninstallWorkerService } from './install-service.js';
import type { ServiceContext } from './service-context.js';
import { systemServiceRunner } from './service-runner.js';
import { serviceReportText } from './service-report.js';
import { workerServiceSpec } from './worker-service-spec.js';

/** True when `hearth worker` was asked to install or remove its service instead of serving. */
export function wantsService(flags: Record<string, FlagValue>): boolean {
  return Boolean(flags['install-service'] || flags['uninstall-service']);
}

/** `hearth worker --install-service | --uninstall-service` on this machine, as this user; resolves to the exit code. */
export async function runServiceCommand(input: {
  flags: Record<string, FlagValue>;
  out: CliOutput;
  options: NonNullable<ParseArgsConfig['options']>;
  context?: ServiceContext;
}): Promise<number> {
  const { flags, out } = input;
  if (flags['install-service'] && flags['uninstall-service']) throw usageError('give --install-service or --uninstall-service, not both');
  const context = input.context ?? thisMachine();
  const report = flags['install-service']
    ? await installWorkerService(context, workerServiceSpec({ flags, options: input.options, execPath: process.execPath, appRoot: appRoot(), cwd: process.cwd(), env: context.env }))
    : await uninstallWorkerService(context);
  out.result(report, () => serviceReportText(report));
  return report.failed ? 1 : 0;
}

function thisMachine(): ServiceContext {
  return {
    runner: systemServiceRunner(),
    platform: process.platform,
    uid: process.getuid?.() ?? -1,
    username: os.userInfo().username,
    home: os.homedir(),
    env: process.env,
    dataDir: hearthPaths().dataDir,
  };
}

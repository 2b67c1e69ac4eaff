import { HearthError } from '../../core/base/errors.js';
import { installLaunchd, uninstallLaunchd } from './install-launchd.js';
import { installSystemd, uninstallSystemd } from './install-systemd.js';
import { installWindows, uninstallWindows } from './install-windows.js';
import type { ServiceContext } from './service-context.js';
import type { ServiceReport } from './service-report.js';
import type { WorkerServiceSpec } from './worker-service-spec.js';

/** Run the worker under this platform's service manager: systemd on Linux, launchd on macOS, Task Scheduler on Windows. */
export function installWorkerService(context: ServiceContext, spec: WorkerServiceSpec): Promise<ServiceReport> {
  if (context.platform === 'linux') return installSystemd(context, spec);
  if (context.platform === 'darwin') return installLaunchd(context, spec);
  if (context.platform === 'win32') return installWindows(context, spec);
  throw unsupported(context.platform);
}

/** Stop the worker's service and remove it. */
export function uninstallWorkerService(context: ServiceContext): Promise<ServiceReport> {
  if (context.platform === 'linux') return uninstallSystemd(context);
  if (context.platform === 'darwin') return uninstallLaunchd(context);
  if (context.platform === 'win32') return uninstallWindows(context);
  throw unsupported(context.platform);
}

function unsupported(platform: string): HearthError {
  return new HearthError('service', `no service installer for ${platform}: run "hearth worker" under your own service manager (resources/linux/hearth-worker.service shows what it needs)`);
}

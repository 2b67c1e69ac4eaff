/** What installing or removing the worker's service did, for `--json` and for people. */
export interface ServiceReport {
  action: 'install' | 'uninstall';
  manager: 'systemd' | 'launchd' | 'schtasks';
  /** systemd: a system unit or a user unit. */
  scope?: 'system' | 'user';
  /** The account the worker runs as. */
  user: string;
  /** The unit, plist or launcher written or removed. */
  file: string;
  /** Whether the file was written (install) or was there and removed (uninstall). */
  changed: boolean;
  /** Whether the service manager now runs the worker. */
  running: boolean;
  /** The commands run, as one would type them. */
  commands: string[];
  /** The command that failed and what it said; the exit code is then 1. */
  failed?: { command: string; message: string };
  /** How to follow the worker's output. */
  logs?: string;
  /** What to know or do next. */
  notes: string[];
}

/** The report as lines for a terminal. */
export function serviceReportText(report: ServiceReport): string {
  const what = report.manager === 'systemd' ? `${report.scope} unit` : report.manager === 'launchd' ? 'launch agent' : 'scheduled task launcher';
  const lines = [
    report.action === 'install'
      ? `Wrote the ${what} ${report.file} (the worker runs as ${report.user}).`
      : report.changed ? `Removed the ${what} ${report.file}.` : `No ${what} at ${report.file}: nothing to remove.`,
    ...report.commands.map((command) => `  ran: ${command}`),
  ];
  if (report.failed) lines.push(`Failed: ${report.failed.command}: ${report.failed.message}`);
  else if (report.running) lines.push('The worker is running; it starts again after a failure, and at every boot or login.');
  lines.push(...report.notes);
  if (report.logs && report.action === 'install') lines.push(`Its output: ${report.logs}`);
  return lines.join('\n');
}

/** A command line as one would type it in a POSIX shell. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll('\'', '\'\\\'\'')}'`)).join(' ');
}

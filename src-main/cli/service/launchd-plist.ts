import path from 'node:path';

/** The launch agent's label, also its file name. */
export const LAUNCHD_LABEL = 'org.hearth.worker';

/** What `launchdPlist` writes. */
export interface LaunchdPlistOptions {
  /** Program and arguments; the program an absolute path. */
  command: string[];
  env?: Record<string, string>;
  /** Where the worker's output goes (both streams, one file). */
  logFile: string;
}

/**
 * A per-user launch agent for the worker (launchd.plist(5)): started at login, restarted when it
 * exits with a failure (KeepAlive/SuccessfulExit false, as systemd's Restart=on-failure), its
 * output appended to `logFile`.
 */
export function launchdPlist(options: LaunchdPlistOptions): string {
  const env = Object.entries(options.env ?? {});
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    ...key('Label', string(LAUNCHD_LABEL)),
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...options.command.map((arg) => `    ${string(arg)}`),
    '  </array>',
    ...(env.length === 0 ? [] : [
      '  <key>EnvironmentVariables</key>',
      '  <dict>',
      ...env.flatMap(([name, value]) => [`    <key>${xml(name)}</key>`, `    ${string(value)}`]),
      '  </dict>',
    ]),
    ...key('RunAtLoad', '<true/>'),
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    ...key('StandardOutPath', string(options.logFile)),
    ...key('StandardErrorPath', string(options.logFile)),
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** The agent's file and its log, in the user's Library. */
export function launchdPaths(home: string): { plist: string; logFile: string } {
  return {
    plist: path.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
    logFile: path.join(home, 'Library', 'Logs', 'Hearth', 'worker.log'),
  };
}

/** launchctl's arguments to load the agent into the user's GUI session (`bootstrap`) and to remove it (`bootout`). */
export function launchctlArgs(uid: number, plist: string): { bootstrap: string[]; bootout: string[] } {
  return { bootstrap: ['bootstrap', `gui/${uid}`, plist], bootout: ['bootout', `gui/${uid}/${LAUNCHD_LABEL}`] };
}

function key(name: string, value: string): string[] {
  return [`  <key>${name}</key>`, `  ${value}`];
}

function string(text: string): string {
  return `<string>${xml(text)}</string>`;
}

function xml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

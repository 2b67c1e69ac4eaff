import path from 'node:path';
import { HearthError } from '../../core/base/errors.js';

/** The unit's name, for systemctl and journalctl. */
export const SYSTEMD_UNIT_NAME = 'hearth-worker.service';

/** A system unit (root's systemd, any login) or a user unit (the user's own systemd). */
export type SystemdScope = 'system' | 'user';

/** What `systemdUnit` writes. */
export interface SystemdUnitOptions {
  /** Program and arguments; the program an absolute path. */
  command: string[];
  env?: Record<string, string>;
  scope: SystemdScope;
  /** System units: the account the worker runs as (its home holds the cache and the cluster key). */
  user?: string;
}

/** The text of `hearth-worker.service`: the worker restarted on failure, its output in the journal (systemd's default). */
export function systemdUnit(options: SystemdUnitOptions): string {
  const [program, ...args] = options.command;
  if (!program || !path.posix.isAbsolute(program)) throw new HearthError('service', `a systemd unit needs an absolute program path, got "${program ?? ''}"`);
  if (options.scope === 'system' && !options.user) throw new HearthError('service', 'a system unit needs the user the worker runs as');
  if (options.user !== undefined && !/^[a-z_][a-z0-9_.-]*\$?$/i.test(options.user)) throw new HearthError('service', `"${options.user}" is not a user name systemd accepts`);
  const env = Object.entries(options.env ?? {}).map(([name, value]) => `Environment=${systemdEnvironmentWord(name, value)}`);
  return [
    '[Unit]',
    'Description=Hearth worker: this machine\'s devices as a cached llama.cpp RPC worker',
    // In a user manager these name no unit and only order nothing; kept so both scopes read alike.
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(options.scope === 'system' ? [`User=${options.user}`] : []),
    ...env,
    `ExecStart=${[systemdExecWord(program, true), ...args.map((arg) => systemdExecWord(arg, false))].join(' ')}`,
    'Restart=on-failure',
    // systemd gives up after 5 starts in 10 s: a pause keeps a worker that fails early retrying.
    'RestartSec=5',
    '',
    '[Install]',
    `WantedBy=${options.scope === 'system' ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

/**
 * One word of an ExecStart= line, as systemd.service(5) "Command lines" reads it: split on
 * whitespace unless double-quoted, C escapes (`\\`, `\"`) inside, `%` specifiers expanded
 * everywhere (`%%` is a `%`), `$VAR` substituted in arguments but not in the program (`$$`),
 * a lone `;` separating commands.
 */
export function systemdExecWord(word: string, program: boolean): string {
  rejectControlCharacters(word);
  let escaped = word.replaceAll('%', '%%');
  if (!program) escaped = escaped.replaceAll('$', () => '$$');
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped) && word !== ';') return escaped;
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** One `NAME=value` word of an Environment= line: quoted, C escapes, `%%`; systemd does not expand `$` there. */
export function systemdEnvironmentWord(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new HearthError('service', `"${name}" is not an environment variable name`);
  rejectControlCharacters(value);
  return `"${`${name}=${value}`.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')}"`;
}

function rejectControlCharacters(text: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new HearthError('service', `${JSON.stringify(text)} holds a control character (a newline?), which a unit file cannot carry`);
}

/** Where the unit goes: systemd's folder for units of the administrator, or the user's ($XDG_CONFIG_HOME/systemd/user). */
export function systemdUnitPath(scope: SystemdScope, home: string, env: Record<string, string | undefined> = {}): string {
  if (scope === 'system') return path.posix.join('/etc/systemd/system', SYSTEMD_UNIT_NAME);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'systemd', 'user', SYSTEMD_UNIT_NAME);
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { HearthError } from '../../core/base/errors.js';
import { usageError, type FlagValue } from '../command.js';
import { portFlag } from '../long-running.js';
import { parseSize } from '../../shared/parse-size.js';

/** The flags that install or remove the service: never written into it. */
export const SERVICE_FLAGS = ['install-service', 'uninstall-service'] as const;

/** Flags naming folders: made absolute, since a service starts in another working directory. */
const PATH_FLAGS = new Set(['cache-dir', 'models']);

/** Environment variables a service keeps from the shell that installed it, when they are set there. */
const KEPT_ENV = ['HEARTH_DATA_DIR', 'HEARTH_CACHE_DIR'] as const;

/** What a service manager runs: this installation's node and `bin/hearth.js worker` with the user's flags. */
export interface WorkerServiceSpec {
  /** Program and arguments, the program an absolute path. */
  command: string[];
  /** Variables to set for it. */
  env: Record<string, string>;
}

/** Where the service's parts come from; tests pass their own. */
export interface SpecSources {
  flags: Record<string, FlagValue>;
  /** The worker command's option definitions, in the order they are written out. */
  options: NonNullable<ParseArgsConfig['options']>;
  execPath: string;
  appRoot: string;
  cwd: string;
  env: Record<string, string | undefined>;
}

/** The worker's command line for a service, from the flags given with `--install-service` (checked now, not in a restart loop). */
export function workerServiceSpec(sources: SpecSources): WorkerServiceSpec {
  const { flags } = sources;
  if (typeof flags['cache-max'] === 'string' && parseSize(flags['cache-max']) === undefined) {
    throw usageError(`--cache-max takes a size such as 50G or 512MiB, got "${flags['cache-max']}"`);
  }
  for (const name of ['port', 'rpc-port', 'link-port']) portFlag(flags[name], 0, `--${name}`);
  const script = path.join(sources.appRoot, 'bin', 'hearth.js');
  if (!existsSync(script)) throw new HearthError('service', `${script} is missing: the service runs Hearth from this folder, so install it from a complete checkout`);
  const args: string[] = [];
  for (const name of Object.keys(sources.options)) {
    if ((SERVICE_FLAGS as readonly string[]).includes(name)) continue;
    const value = flags[name];
    const resolve = (text: string) => (PATH_FLAGS.has(name) ? path.resolve(sources.cwd, text) : text);
    if (value === true) args.push(`--${name}`);
    else if (typeof value === 'string') args.push(`--${name}`, resolve(value));
    else if (Array.isArray(value)) for (const item of value) args.push(`--${name}`, resolve(item));
  }
  const env: Record<string, string> = {};
  for (const name of KEPT_ENV) {
    const value = sources.env[name];
    if (value) env[name] = path.resolve(sources.cwd, value);
  }
  return { command: [sources.execPath, script, 'worker', ...args], env };
}

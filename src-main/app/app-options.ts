// The app's command-line switches, the same names `hearth serve` takes, for a desktop box that
// needs other ports, another cache folder or no mDNS (and for the Electron end-to-end tests).
// Electron and Chromium add switches of their own, so anything unknown is left alone.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { HearthCoreOptions } from '../core/host/hearth-core.js';

/** HearthCore options from `argv` (without the executable); throws on a switch with a bad value. */
export function appOptions(argv: readonly string[]): HearthCoreOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    options: {
      'no-discovery': { type: 'boolean' },
      'cache-dir': { type: 'string' },
      models: { type: 'string', multiple: true },
      'rpc-port': { type: 'string' },
      'control-port': { type: 'string' },
      'link-port': { type: 'string' },
      'api-port': { type: 'string' },
    },
  });
  const options: HearthCoreOptions = {};
  if (values['no-discovery'] === true) options.discovery = false;
  if (typeof values['cache-dir'] === 'string') options.tensorCacheDir = path.resolve(values['cache-dir']);
  if (Array.isArray(values.models)) options.modelDirs = values.models.filter((dir): dir is string => typeof dir === 'string').map((dir) => path.resolve(dir));
  const ports = { 'rpc-port': 'workerPort', 'control-port': 'controlPort', 'link-port': 'linkPort', 'api-port': 'apiPort' } as const;
  for (const [flag, option] of Object.entries(ports) as [keyof typeof ports, (typeof ports)[keyof typeof ports]][]) {
    const value = values[flag];
    if (value === undefined) continue;
    const port = Number(value);
    if (typeof value !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${flag} takes a TCP port (0 for any free one), got "${String(value)}"`);
    options[option] = port;
  }
  return options;
}

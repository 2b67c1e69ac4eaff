import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appOptions } from '../../src-main/app/app-options.js';

describe('appOptions', () => {
  it('reads the switches hearth serve also takes, and leaves Electron\'s own alone', () => {
    const options = appOptions(['dist/main/app/main.js', '--no-discovery', '--models', 'a', '--models=/b', '--cache-dir', 'c', '--rpc-port', '0', '--api-port=7500', '--enable-logging', '--inspect=9229']);
    expect(options).toEqual({ discovery: false, modelDirs: [path.resolve('a'), '/b'], tensorCacheDir: path.resolve('c'), workerPort: 0, apiPort: 7500 });
  });

  it('gives the defaults without switches', () => {
    expect(appOptions(['dist/main/app/main.js'])).toEqual({});
  });

  it.each([['--link-port', 'x'], ['--control-port', '70000'], ['--rpc-port', '-1']])('refuses %s %s', (flag, value) => {
    expect(() => appOptions([flag, value])).toThrow(new RegExp(`${flag} takes a TCP port`));
  });
});

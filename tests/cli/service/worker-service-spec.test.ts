import { describe, expect, it } from 'vitest';
import type { FlagValue } from '../../../src-main/cli/command.js';
import { workerCommand } from '../../../src-main/cli/commands/worker.js';
import { workerServiceSpec } from '../../../src-main/cli/service/worker-service-spec.js';
import { REPO_ROOT } from '../../helpers/cli.js';

function spec(flags: Record<string, FlagValue>, env: Record<string, string | undefined> = {}) {
  return workerServiceSpec({ flags, options: workerCommand.options, execPath: '/opt/node/bin/node', appRoot: REPO_ROOT, cwd: '/home/a/work', env });
}

describe('workerServiceSpec', () => {
  it('runs this installation\'s node and bin/hearth.js with the worker\'s flags, folders made absolute', () => {
    const { command } = spec({
      'install-service': true, 'cache-dir': 'cache', 'cache-max': '200G', models: ['models', '/srv/more models'],
      port: '7500', 'rpc-port': '0', 'link-port': '7600', 'link-host': '10.0.0.2', 'no-discovery': true, 'open-lan': true, json: true,
    });
    expect(command).toEqual([
      '/opt/node/bin/node', `${REPO_ROOT}/bin/hearth.js`, 'worker',
      '--cache-dir', '/home/a/work/cache', '--cache-max', '200G', '--models', '/home/a/work/models', '--models', '/srv/more models',
      '--port', '7500', '--rpc-port', '0', '--link-port', '7600', '--link-host', '10.0.0.2', '--no-discovery', '--open-lan',
    ]);
  });

  it('never writes the service flags themselves, nor --json', () => {
    const { command } = spec({ 'install-service': true, 'uninstall-service': false, json: true });
    expect(command.slice(2)).toEqual(['worker']);
  });

  it('keeps HEARTH_DATA_DIR and HEARTH_CACHE_DIR only when they are set here', () => {
    expect(spec({}, {}).env).toEqual({});
    expect(spec({}, { HEARTH_DATA_DIR: 'data', HEARTH_CACHE_DIR: '', PATH: '/bin' }).env).toEqual({ HEARTH_DATA_DIR: '/home/a/work/data' });
  });

  it('checks sizes and ports now, not in a restart loop', () => {
    expect(() => spec({ 'cache-max': 'lots' })).toThrow(/--cache-max takes a size/);
    expect(() => spec({ 'rpc-port': '70000' })).toThrow(/--rpc-port takes a port/);
  });

  it('says so when bin/hearth.js is not where the app root says', () => {
    expect(() => workerServiceSpec({ flags: {}, options: workerCommand.options, execPath: '/n', appRoot: '/nonexistent', cwd: '/', env: {} })).toThrow(/bin\/hearth\.js is missing/);
  });
});

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const importElectron = "import { app } from 'electron';\nexport const ready = app.isReady();\n";

async function restrictedImportErrors(filePath: string, text = importElectron): Promise<string[]> {
  const [result] = await new ESLint({ cwd: REPO_ROOT }).lintText(text, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

/** The layer rule's complaints about one import written in `filePath`. */
async function layerErrors(filePath: string, specifier: string): Promise<string[]> {
  const text = `import { thing } from '${specifier}';\nexport const used = thing;\n`;
  const [result] = await new ESLint({ cwd: REPO_ROOT }).lintText(text, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'hearth/layers').map((message) => message.message);
}

describe('the layering lint rules', () => {
  it('forbid electron in the plain-Node core and CLI', async () => {
    expect(await restrictedImportErrors('src-main/core/worker/example.ts')).toEqual([expect.stringContaining('plain Node')]);
    expect(await restrictedImportErrors('src-main/cli/example.ts')).toHaveLength(1);
  });

  it('allow it in the Electron shell', async () => {
    expect(await restrictedImportErrors('src-main/app/example.ts')).toEqual([]);
  });

  it('keep raw IPC inside the typed wrappers', async () => {
    const rawIpc = "import { ipcMain } from 'electron';\nipcMain.handle('x', () => 1);\n";
    expect(await restrictedImportErrors('src-main/app/example.ts', rawIpc)).not.toEqual([]);
    expect(await restrictedImportErrors('src-main/app/ipc.ts', rawIpc)).toEqual([]);
  });

  it('refuse every import that goes up a layer', async () => {
    const upward: [string, string][] = [
      ['src-main/core/base/example.ts', '../cache/cache-store.js'], // base → domain
      ['src-main/shared/example.ts', '../core/base/errors.js'], // shared → base
      ['src-main/core/worker/example.ts', '../coordinator/coordinator.js'], // domain → coordinator
      ['src-main/core/planner/example.ts', '../api/contract.js'], // domain → the UI contract (host)
      ['src-main/core/coordinator/example.ts', '../host/hearth-core.js'], // coordinator → host
      ['src-main/core/host/example.ts', '../../cli/main.js'], // host → shell
    ];
    for (const [file, specifier] of upward) expect(await layerErrors(file, specifier), `${file} → ${specifier}`).toEqual([expect.stringContaining('may not import')]);
  });

  it('keep the domain modules in their order: none imports one after it', async () => {
    expect(await layerErrors('src-main/core/peers/example.ts', '../worker/run-worker.js')).toEqual([expect.stringContaining('core/peers (domain) may not import core/worker (domain)')]);
    expect(await layerErrors('src-main/core/native/example.ts', '../worker/devices.js')).toHaveLength(1);
    expect(await layerErrors('src-main/core/worker/example.ts', '../native/tools.js')).toEqual([]);
  });

  it('let the renderer see only the contract and the shared folder', async () => {
    expect(await layerErrors('src-renderer/src/lib/example.ts', '../../../src-main/cli/format.js')).toEqual([expect.stringContaining('renderer may import only')]);
    expect(await layerErrors('src-renderer/src/lib/example.ts', '../../../src-main/core/api/request-arguments.js')).toHaveLength(1);
    expect(await layerErrors('src-renderer/src/lib/example.ts', '../../../src-main/core/api/contract.js')).toEqual([]);
    expect(await layerErrors('src-renderer/src/lib/example.ts', '../../../src-main/shared/format-bytes.js')).toEqual([]);
  });

  it('allow imports down the layers, and a file in no layer is named', async () => {
    expect(await layerErrors('src-main/cli/example.ts', '../core/coordinator/coordinator.js')).toEqual([]);
    expect(await layerErrors('src-main/core/coordinator/example.ts', '../warmup/warm-up.js')).toEqual([]);
    expect(await layerErrors('src-main/core/example.ts', './base/errors.js')).toEqual([expect.stringContaining('in no layer')]);
  });
});

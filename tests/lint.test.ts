import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const importElectron = "import { app } from 'electron';\nexport const ready = app.isReady();\n";

async function restrictedImportErrors(filePath: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: REPO_ROOT }).lintText(importElectron, { filePath });
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

describe('the layering lint rule', () => {
  it('forbids electron in the plain-Node core and CLI', async () => {
    expect(await restrictedImportErrors('src-main/core/worker/example.ts')).toEqual([expect.stringContaining('plain Node')]);
    expect(await restrictedImportErrors('src-main/cli/example.ts')).toHaveLength(1);
  });

  it('allows it in the Electron shell', async () => {
    expect(await restrictedImportErrors('src-main/app/example.ts')).toEqual([]);
  });

  it('keeps raw IPC inside the typed wrappers', async () => {
    const rawIpc = "import { ipcMain } from 'electron';\nipcMain.handle('x', () => 1);\n";
    const [outside] = await new ESLint({ cwd: REPO_ROOT }).lintText(rawIpc, { filePath: 'src-main/app/example.ts' });
    expect(outside!.messages.map((message) => message.ruleId)).toContain('no-restricted-imports');
    const [inside] = await new ESLint({ cwd: REPO_ROOT }).lintText(rawIpc, { filePath: 'src-main/app/ipc.ts' });
    expect(inside!.messages.map((message) => message.ruleId)).not.toContain('no-restricted-imports');
  });
});

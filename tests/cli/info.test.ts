import { chmod, copyFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel } from '../../src-main/core/gguf/inspect-model.js';
import { runHearth } from '../helpers/cli.js';
import { scratchDir, syntheticModel } from '../helpers/models.js';

/** A failed command prints one line, names the file, and no stack trace. */
function expectOneLineError(result: { code: number | null; stdout: string; stderr: string }, file: string, problem: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hearth: /);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(problem);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('hearth info', () => {
  it('prints the facts of a model for people', async () => {
    const model = await syntheticModel('cacheSized');
    const result = await runHearth(['info', model]);
    expect(result.code, result.stderr).toBe(0);
    for (const label of ['Architecture:', 'Parameters:', 'File type:', 'File size:', 'Layers:', 'Context length:', 'Tensors:', '1.00 MiB or more:']) {
      expect(result.stdout).toContain(label);
    }
    expect(result.stdout).toMatch(/Architecture:\s+llama/);
    expect(result.stdout).toMatch(/File type:\s+F16/);
    expect(result.stdout).toMatch(/1\.00 MiB or more:\s+12 tensors/);
  });

  it('speaks JSON with the same facts the core reads', async () => {
    const model = await syntheticModel('q8');
    const result = await runHearth(['info', model, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const facts = JSON.parse(result.stdout) as Record<string, unknown>;
    const { tensors: _tensors, ...expected } = await inspectModel(model);
    expect(facts).toEqual(expected);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  describe('bad files: one line naming the file and the problem, exit code 1', () => {
    const dir = scratchDir();

    it('empty', async () => {
      const file = path.join(dir, 'empty.gguf');
      await writeFile(file, '');
      expectOneLineError(await runHearth(['info', file]), file, /empty/);
    });

    it('not GGUF', async () => {
      const file = path.join(dir, 'readme.gguf');
      await writeFile(file, '# not a model\n');
      expectOneLineError(await runHearth(['info', file]), file, /not a GGUF file/);
    });

    it('truncated', async () => {
      const file = path.join(dir, 'truncated.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      await truncate(file, (await inspectModel(file)).fileBytes / 2);
      expectOneLineError(await runHearth(['info', file]), file, /truncated/);
    });

    it('missing', async () => {
      const file = path.join(dir, 'nowhere.gguf');
      expectOneLineError(await runHearth(['info', file]), file, /no such file/);
    });

    it('unreadable', async () => {
      const file = path.join(dir, 'locked.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      await chmod(file, 0o000);
      await chmod(dir, 0o755); // the folder is open: only the file itself is locked
      // root reads any file: run the CLI as the unprivileged "nobody" where the tests run as root.
      const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
      expectOneLineError(await runHearth(['info', file], { prefix: asNobody }), file, /permission denied/);
    });

    it('and with --json, the error as a JSON object on stdout', async () => {
      const file = path.join(dir, 'empty-json.gguf');
      await writeFile(file, '');
      const result = await runHearth(['info', file, '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toEqual({ error: { code: 'bad-model', message: `${file}: the file is empty` } });
    });
  });

  it('calls mistakes in the command line usage errors (exit code 2)', async () => {
    const missing = await runHearth(['info']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^hearth: .*hearth info <model\.gguf>/);
    const unknown = await runHearth(['info', 'x.gguf', '--frobnicate']);
    expect(unknown.code).toBe(2);
    const command = await runHearth(['frobnicate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
  });
});

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src-main/core/native/doctor.js';
import { stageBundle } from '../../src-main/core/native/stage-bundle.js';
import { locateTools, nodeModulesDir } from '../../src-main/core/native/tools.js';
import { runHearth } from '../helpers/cli.js';
import { scratchDir } from '../helpers/models.js';

const scratch = scratchDir('hearth-doctor-');
const { HEARTH_TOOLS_DIR: _unset, ...plainEnv } = process.env;

async function stage(name: string): Promise<string> {
  const outDir = path.join(scratch, name);
  await stageBundle({ buildDir: (await locateTools()).dir, nodeModulesDir: nodeModulesDir(), outDir });
  return outDir;
}

describe('hearth doctor', () => {
  it('says the tools were built from source in a checkout', async () => {
    const result = await runHearth(['doctor', '--json'], { env: plainEnv });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    const location = await locateTools();
    expect(report).toMatchObject({ toolsSource: 'built', bundleOrigin: null, toolsDir: location.dir, release: location.source.release });
    expect(report.tools!.rpcServer.startsWith(location.dir)).toBe(true);

    const text = await runHearth(['doctor'], { env: plainEnv });
    expect(text.stdout).toMatch(new RegExp(`Tools:\\s+built from source \\(${escape(location.dir)}\\)`));
  });

  it('says which bundle is in use, and runs its programs', async () => {
    const dir = await stage('bundle');
    const env = { ...plainEnv, HEARTH_TOOLS_DIR: dir };
    const result = await runHearth(['doctor', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report).toMatchObject({ toolsSource: 'bundled', bundleOrigin: 'HEARTH_TOOLS_DIR', toolsDir: dir });
    expect(report.tools!.rpcServer).toBe(path.join(dir, 'bin', `ggml-rpc-server${process.platform === 'win32' ? '.exe' : ''}`));
    expect(report.tools!.patches).toEqual((await locateTools()).inputs.patches.map((patch) => patch.name));
    const cpu = report.backends.find((backend) => backend.backend === 'CPU')!;
    expect(cpu.usable, cpu.reason ?? '').toBe(true);
    expect(cpu.module).toContain(dir);

    const text = await runHearth(['doctor'], { env });
    expect(text.stdout).toMatch(new RegExp(`Tools:\\s+bundled, from HEARTH_TOOLS_DIR \\(${escape(dir)}\\)`));
  });

  it('names what is wrong with a broken bundle, on one line', async () => {
    const dir = await stage('broken');
    await rm(path.join(dir, 'tools.json'));
    const result = await runHearth(['doctor'], { env: { ...plainEnv, HEARTH_TOOLS_DIR: dir } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`hearth: The llama.cpp tools in HEARTH_TOOLS_DIR (${dir}) cannot be used: tools.json is missing.`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

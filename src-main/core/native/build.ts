import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildProgress } from '../../shared/devices.js';
import { HearthError } from '../base/errors.js';
import type { BuildInputs, SourcePatch, ToolTarget } from './build-options.js';
import { withBuildLock } from './build-lock.js';
import type { LlamaSource } from './llama-source.js';
import { runStep } from './run-step.js';
import { assertToolchain } from './toolchain.js';

// The share of the progress bar each target's compile fills: the worker engine is small,
// the coordinator engine is most of the build.
const TARGET_WEIGHT: Record<ToolTarget, number> = { 'ggml-rpc-server': 1, 'llama-server': 9 };

/** What a finished build records beside its binaries (`build.json`). */
export interface BuildRecord {
  key: string;
  release: string;
  rpcProtocol: string;
  patches: string[];
  options: string[];
  builtAt: string;
}

export interface BuildRequest {
  source: LlamaSource;
  inputs: BuildInputs;
  key: string;
  /** The finished build goes to `<buildsDir>/<key>/`. */
  buildsDir: string;
  onProgress?: (progress: BuildProgress) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Build the llama.cpp tools from the bundled source into `<buildsDir>/<key>/bin`.
 * Work happens in a `.partial` folder renamed into place at the end, so an interrupted build
 * never leaves a half-built folder under the final name.
 */
export async function buildTools(request: BuildRequest): Promise<BuildRecord> {
  const env = request.env ?? process.env;
  assertToolchain(env);
  const finalDir = path.join(request.buildsDir, request.key);
  const workDir = `${finalDir}.partial`;
  const srcDir = path.join(workDir, 'src');
  const cmakeDir = path.join(workDir, 'build');
  const report = request.onProgress ?? (() => {});

  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });

  report({ step: `unpacking llama.cpp ${request.source.release}`, fraction: null });
  await runStep('Unpacking the llama.cpp source', 'git', ['clone', '--quiet', request.source.bundlePath, srcDir], { env });
  for (const patch of request.inputs.patches) await applyPatch(srcDir, patch, env);
  const rpcProtocol = await readRpcProtocol(srcDir);

  report({ step: 'configuring', fraction: null });
  await runStep('Configuring llama.cpp (cmake)', 'cmake', ['-S', srcDir, '-B', cmakeDir, ...request.inputs.options], { env });

  // One target at a time: cmake's percentages restart per invocation, so each maps onto its
  // own stretch of the bar (the worker engine is small, the coordinator engine is most of it).
  const jobs = String(Math.max(1, os.availableParallelism()));
  const totalWeight = request.inputs.targets.reduce((sum, target) => sum + TARGET_WEIGHT[target], 0);
  let done = 0;
  for (const target of request.inputs.targets) {
    const from = done / totalWeight;
    const to = (done += TARGET_WEIGHT[target]) / totalWeight;
    report({ step: `compiling ${target}`, fraction: from });
    await runStep(`Compiling ${target}`, 'cmake', ['--build', cmakeDir, '--config', 'Release', '-j', jobs, '--target', target], {
      env,
      onLine: (line) => {
        const percent = /^\[\s*(\d+)%\]/.exec(line);
        if (percent) report({ step: `compiling ${target}`, fraction: from + ((to - from) * Number(percent[1])) / 100 });
      },
    });
  }

  const record: BuildRecord = {
    key: request.key,
    release: request.source.release,
    rpcProtocol,
    patches: request.inputs.patches.map((patch) => patch.name),
    options: request.inputs.options,
    builtAt: new Date().toISOString(),
  };
  await rm(finalDir, { recursive: true, force: true });
  await mkdir(finalDir, { recursive: true });
  await rename(path.join(cmakeDir, 'bin'), path.join(finalDir, 'bin'));
  // build.json is written last: its presence marks a complete build.
  await writeFile(path.join(finalDir, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
  await rm(workDir, { recursive: true, force: true });
  report({ step: 'done', fraction: 1 });
  return record;
}

/** Build once even when several processes ask at the same time. */
export function buildToolsOnce(request: BuildRequest, isBuilt: () => Promise<boolean>): Promise<void> {
  return withBuildLock(path.join(request.buildsDir, `${request.key}.lock`), async () => {
    if (!(await isBuilt())) await buildTools(request);
  });
}

async function applyPatch(srcDir: string, patch: SourcePatch, env: NodeJS.ProcessEnv): Promise<void> {
  await runStep(`Applying patch ${patch.name}`, 'git', ['apply', '--whitespace=nowarn', patch.path], { cwd: srcDir, env });
}

/** The ggml RPC protocol version, read from the source's `ggml-rpc.h`. */
async function readRpcProtocol(srcDir: string): Promise<string> {
  const header = await readFile(path.join(srcDir, 'ggml', 'include', 'ggml-rpc.h'), 'utf8');
  const part = (name: string) => new RegExp(`#define\\s+RPC_PROTO_${name}_VERSION\\s+(\\d+)`).exec(header)?.[1];
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  if (!major || !minor || !patch) throw new HearthError('build-failed', `Could not read the RPC protocol version from ${srcDir}/ggml/include/ggml-rpc.h.`);
  return `${major}.${minor}.${patch}`;
}

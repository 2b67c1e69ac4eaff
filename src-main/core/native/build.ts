import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildProgress } from '../../shared/devices.js';
import { HearthError } from '../base/errors.js';
import type { BuildInputs, SourcePatch, ToolTarget } from './build-options.js';
import { withBuildLock } from './build-lock.js';
import { readBuildRecord, recordedTargets, type BuildRecord } from './build-record.js';
import type { LlamaSource } from './llama-source.js';
import { publishBuild } from './publish-build.js';
import { runStep } from './run-step.js';
import { assertToolchain } from './toolchain.js';

// The share of the progress bar each target's compile fills: the worker engine is small,
// the coordinator engine is most of the build.
const TARGET_WEIGHT: Record<ToolTarget, number> = { 'ggml-rpc-server': 1, 'llama-server': 9 };
// Written into the work tree once cmake has configured it: a tree without it is started over.
const TREE_RECORD = 'tree.json';

export type { BuildRecord } from './build-record.js';

export interface BuildRequest {
  source: LlamaSource;
  inputs: BuildInputs;
  key: string;
  /** The finished build goes to `<buildsDir>/<key>/`. */
  buildsDir: string;
  /** What to build now (default: every target of `inputs`); targets already built are skipped. */
  targets?: readonly ToolTarget[];
  onProgress?: (progress: BuildProgress) => void;
  env?: NodeJS.ProcessEnv;
  /** Compile at the lowest CPU priority: a build in the background, beside a worker that serves. */
  background?: boolean;
}

/** A configured cmake tree of the patched source. */
interface WorkTree {
  srcDir: string;
  cmakeDir: string;
  rpcProtocol: string;
  /** Kept from an earlier build step rather than made for this one. */
  reused: boolean;
}

/**
 * Build llama.cpp tools from the bundled source into `<buildsDir>/<key>/bin`, one target at a
 * time, each published as soon as it is compiled (the worker engine first, in well under a
 * minute). The source and cmake tree stay in `<key>.partial` until every target is built, so
 * building llama-server later compiles only what it adds. Nothing under the final name is ever
 * half-built: see publishBuild.
 */
export async function buildTools(request: BuildRequest): Promise<void> {
  const env = request.env ?? process.env;
  assertToolchain(env);
  const all = request.inputs.targets;
  const finalDir = path.join(request.buildsDir, request.key);
  const workDir = `${finalDir}.partial`;
  const built = recordedTargets(readBuildRecord(finalDir), all);
  const wanted = all.filter((target) => (request.targets ?? all).includes(target) && !built.includes(target));
  const report = request.onProgress ?? (() => {});
  if (wanted.length === 0) return;

  let tree = await openTree(workDir, request, env);
  try {
    await compileAndPublish(tree, wanted, built, finalDir, request, env);
  } catch (error) {
    // An interrupted compile can leave a truncated object file that make takes as done: start over once.
    if (!tree.reused) throw error;
    tree = await freshTree(workDir, request, env);
    await compileAndPublish(tree, wanted, recordedTargets(readBuildRecord(finalDir), all), finalDir, request, env);
  }
  if (recordedTargets(readBuildRecord(finalDir), all).length === all.length) await rm(workDir, { recursive: true, force: true });
  report({ step: 'done', fraction: 1 });
}

/** Build once even when several processes ask at the same time; a waiter returns as soon as its targets are there. */
export function buildToolsOnce(request: BuildRequest, isBuilt: () => Promise<boolean>): Promise<void> {
  return withBuildLock(
    path.join(request.buildsDir, `${request.key}.lock`),
    async () => {
      if (!(await isBuilt())) await buildTools(request);
    },
    // Another process building everything publishes the worker engine first: a worker need not wait for llama-server.
    { stopWaitingWhen: isBuilt },
  );
}

async function compileAndPublish(tree: WorkTree, wanted: ToolTarget[], built: ToolTarget[], finalDir: string, request: BuildRequest, env: NodeJS.ProcessEnv): Promise<void> {
  const report = request.onProgress ?? (() => {});
  // One target at a time: cmake's percentages restart per invocation, so each maps onto its
  // own stretch of the bar.
  const jobs = String(Math.max(1, os.availableParallelism()));
  const totalWeight = wanted.reduce((sum, target) => sum + TARGET_WEIGHT[target], 0);
  const done = [...built];
  let weightDone = 0;
  for (const target of wanted) {
    const from = weightDone / totalWeight;
    const to = (weightDone += TARGET_WEIGHT[target]) / totalWeight;
    report({ step: `compiling ${target}`, fraction: from });
    await runStep(`Compiling ${target}`, 'cmake', ['--build', tree.cmakeDir, '--config', 'Release', '-j', jobs, '--target', target], {
      env,
      lowPriority: request.background,
      onLine: (line) => {
        const percent = /^\[\s*(\d+)%\]/.exec(line);
        if (percent) report({ step: `compiling ${target}`, fraction: from + ((to - from) * Number(percent[1])) / 100 });
      },
    });
    done.push(target);
    const record: BuildRecord = {
      key: request.key,
      release: request.source.release,
      rpcProtocol: tree.rpcProtocol,
      patches: request.inputs.patches.map((patch) => patch.name),
      options: request.inputs.options,
      targets: request.inputs.targets.filter((candidate) => done.includes(candidate)),
      builtAt: new Date().toISOString(),
    };
    await publishBuild(finalDir, path.join(tree.cmakeDir, 'bin'), record);
  }
}

/** The tree an earlier step configured for this key, else a fresh one. */
async function openTree(workDir: string, request: BuildRequest, env: NodeJS.ProcessEnv): Promise<WorkTree> {
  try {
    const kept = JSON.parse(await readFile(path.join(workDir, TREE_RECORD), 'utf8')) as { key?: unknown; rpcProtocol?: unknown };
    const tree = treeIn(workDir);
    if (kept.key === request.key && typeof kept.rpcProtocol === 'string' && existsSync(tree.cmakeDir)) return { ...tree, rpcProtocol: kept.rpcProtocol, reused: true };
  } catch {
    // No tree, or one that was never configured.
  }
  return freshTree(workDir, request, env);
}

/** Clone the bundled source, apply the patches and configure cmake in `workDir`. */
async function freshTree(workDir: string, request: BuildRequest, env: NodeJS.ProcessEnv): Promise<WorkTree> {
  const report = request.onProgress ?? (() => {});
  const { srcDir, cmakeDir } = treeIn(workDir);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });

  report({ step: `unpacking llama.cpp ${request.source.release}`, fraction: null });
  await runStep('Unpacking the llama.cpp source', 'git', ['clone', '--quiet', request.source.bundlePath, srcDir], { env });
  for (const patch of request.inputs.patches) await applyPatch(srcDir, patch, env);
  const rpcProtocol = await readRpcProtocol(srcDir);

  report({ step: 'configuring', fraction: null });
  await runStep('Configuring llama.cpp (cmake)', 'cmake', ['-S', srcDir, '-B', cmakeDir, ...request.inputs.options], { env });
  await writeFile(path.join(workDir, TREE_RECORD), `${JSON.stringify({ key: request.key, rpcProtocol })}\n`);
  return { srcDir, cmakeDir, rpcProtocol, reused: false };
}

function treeIn(workDir: string): { srcDir: string; cmakeDir: string } {
  return { srcDir: path.join(workDir, 'src'), cmakeDir: path.join(workDir, 'build') };
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

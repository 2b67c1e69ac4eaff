// Cache warm-up on a lab LAN shaped to 1 Gbit: a ~1.3 GB model split over two workers, timed
// from the launch of the load to ready. Upstream llama.cpp (no cache, `-c` cold, `-c` warm)
// against Hearth (pre-warm then load, warm load), each a ratio to the same model loaded locally
// in the same run, with the bytes each worker's cable carried.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isCachedTensor, RPC_HASH_THRESHOLD } from '../src-main/core/gguf/inspect-model.js';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { benchModel } from './models.js';
import { ensureTools, type LlamaTools } from '../src-main/core/native/tools.js';
import { saveIdentity } from '../src-main/core/peers/cluster/cluster-identity.js';
import type { SplitPlan } from '../src-main/core/planner/plan-types.js';
import { HEARTH_BIN, REPO_ROOT } from '../tests/helpers/cli.js';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../tests/helpers/netns.js';
import { ensureUpstreamRpc } from '../tests/helpers/upstream-tools.js';
import { startPart, type Part } from './lab-part.js';
import { median } from './measure.js';

/** The issue's goals: Hearth warm within this factor of the local load; the others are "no slower than" upstream. */
const WARMUP_GOALS = { warmVsLocal: 1.2 } as const;

/** The scenarios, in the report's order. */
const SCENARIOS = {
  upstreamNoCache: 'upstream `ggml-rpc-server`, no cache',
  upstreamCold: 'upstream `-c`, empty cache (first load)',
  upstreamWarm: 'upstream `-c`, warm cache',
  hearthPrewarm: 'Hearth pre-warm (`hearth warm`), empty caches',
  hearthAfterPrewarm: 'Hearth load after the pre-warm (`hearth load`)',
  hearthPrewarmAndLoad: 'Hearth pre-warm + load',
  hearthWarm: 'Hearth load, warm caches',
  localNoMmap: 'local load (no RPC, `-ngl 0 --no-mmap`): baseline',
  localMmap: 'local load with mmap (`-ngl 0`)',
} as const;
export type ScenarioKey = keyof typeof SCENARIOS;

const PROMPT = 'A warm cache in every home lab';
const TOKENS = 16;
const CONTEXT = 256; // tests/helpers/llama-server.ts gives llama-server `-c 256`: Hearth's load gets the same
const RPC_PORT = 50052;
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const COORDINATOR = 'tests/fixtures/bench-warmup-coordinator.ts';
const STATS = '/sys/class/net/eth0/statistics';
const LOAD_TIMEOUT_MS = 5 * 60_000;
const WARM_TIMEOUT_MS = 10 * 60_000;
const COMPLETION_TIMEOUT_MS = 3 * 60_000;
const WORKER_READY_TIMEOUT_MS = 3 * 60_000;
const LISTEN_TIMEOUT_MS = 30_000;
const run = promisify(execFile);
/** What a 1 Gbit/s cable leaves for TCP data after Ethernet, IP and TCP headers. */
const LINK_DATA_BYTES_PER_SECOND = 119e6;

/** A figure's median and every run, in seconds. */
export interface Measured {
  median: number;
  runs: number[];
}

/** Bytes a worker's cable carried: received by the worker, sent by it. */
export interface LinkBytes {
  worker: string;
  received: number;
  sent: number;
}

/** What a Hearth worker's cache said during one load (both workers together). */
export interface CacheCounts {
  hits: number;
  misses: number;
  stored: number;
}

/** One scenario's figures (medians of its runs), or why it failed. */
export interface WarmupScenario {
  key: ScenarioKey;
  name: string;
  seconds?: Measured;
  /** Hearth's loads: from `hearth load` starting llama-server to ready, without the command's own start, link and plan. */
  llamaSeconds?: Measured;
  links?: LinkBytes[];
  cache?: CacheCounts;
  /** The RPC client's word on Hearth's precomputed hashes (`hearth load`'s ready line), last run. */
  hashes?: unknown;
  error?: string;
  notes: string[];
}

/** One goal: `of` / `to`, and whether it is within `limit` (below it, when `strict`). */
export interface WarmupGoal {
  name: string;
  ratio?: number;
  limit: number;
  strict: boolean;
  met?: boolean;
}

/** Each worker's part of Hearth's plan: what a pre-warm should move to it. */
export interface WorkerShare {
  worker: string;
  layers: string;
  tensors: number;
  bytes: number;
  /** Tensors of 1 MiB or more: what Hearth's load asks the cache for, and a pre-warm moves. */
  cachedBytes: number;
  /** Tensors over upstream's 10 MiB threshold: what upstream's load asks its cache for. */
  upstreamCachedBytes: number;
}

/** What the benchmark measured, or why it could not. */
export interface WarmupBenchResults {
  skipped?: string;
  error?: string;
  model?: string;
  modelBytes?: number;
  runs: number;
  workers: string[];
  scenarios: WarmupScenario[];
  goals: WarmupGoal[];
  shares?: WorkerShare[];
  /** One greedy completion per scenario that made one; all must be the same text. */
  outputs: { scenario: ScenarioKey; text: string }[];
  sameOutput?: boolean;
  /** `hearth warm`'s last `done` line: its per-peer figures. */
  prewarmPeers?: unknown;
}

interface Run {
  seconds: number;
  links: { received: number; sent: number }[];
  llamaSeconds?: number;
  cache?: CacheCounts;
  text?: string;
  hashes?: unknown;
}

interface Bench {
  lab: Lab;
  coordinator: LabHost;
  workers: LabHost[];
  scratch: string;
  model: string;
  tools: LlamaTools;
  upstream: LlamaTools;
  /** Hearth's llama-server with upstream's RPC backend module: the RPC client is exactly upstream's. */
  upstreamClient: { llamaServer: string; cwd: string };
  clusterKey: Buffer;
  workerData: string[];
  /** Cache folders left by the last cold load (the fill the warm scenarios reuse). */
  upstreamFilled: string[] | null;
  hearthFilled: { cacheDirs: string[]; dataDir: string } | null;
  plan?: SplitPlan;
  prewarmPeers?: unknown;
  tally: Record<ScenarioKey, { runs: Run[]; errors: string[]; notes: Set<string> }>;
  dirs: number;
}

/** Measure every scenario in a lab of network namespaces (root only), `runs` of each. */
export async function benchWarmup(options: { runs: number }): Promise<WarmupBenchResults> {
  const runs = Math.max(1, options.runs);
  const namespaces = await canCreateNamespaces();
  if (!namespaces.ok) return { skipped: namespaces.reason, runs, workers: [], scenarios: [], goals: [], outputs: [] };
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-warmup-'));
  const spec = syntheticPresets.benchmark;
  let bench: Bench | undefined;
  let modelBytes: number | undefined;
  let error: string | undefined;
  let lab: Lab | undefined;
  try {
    const tools = await ensureTools();
    const upstream = await ensureUpstreamRpc();
    const { file: model, bytes } = await benchModel(spec);
    modelBytes = bytes;
    lab = await createLab({ hosts: 3, rate: '1gbit' });
    const [coordinator, ...workers] = lab.hosts as [LabHost, LabHost, LabHost];
    bench = {
      lab, coordinator, workers, scratch, model, tools, upstream,
      upstreamClient: await upstreamClientBuild(tools, upstream, scratch),
      clusterKey: randomBytes(32), workerData: [], upstreamFilled: null, hearthFilled: null, dirs: 0,
      tally: Object.fromEntries(Object.keys(SCENARIOS).map((key) => [key, { runs: [] as Run[], errors: [] as string[], notes: new Set<string>() }])) as Bench['tally'],
    };
    for (const [i, host] of workers.entries()) {
      const dir = path.join(scratch, `${host.name}-data`);
      await saveIdentity(dir, { deviceId: randomUUID(), deviceName: workerName(i), clusterKey: bench.clusterKey });
      bench.workerData.push(dir);
    }
    // Cold loads first (each from nothing), then warm ones; each group alternates its order by round.
    process.stderr.write(`Measuring cold loads over the lab's 1 Gbit links (${runs} rounds)…\n`);
    for (let round = 0; round < runs; round++) for (const step of rotate(COLD_STEPS, round)) await step(bench, round);
    process.stderr.write(`Measuring warm and local loads (${runs} rounds)…\n`);
    for (let round = 0; round < runs; round++) for (const step of rotate(WARM_STEPS, round)) await step(bench, round);
  } catch (caught) {
    error = message(caught);
  } finally {
    await lab?.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
  const workers = bench?.workers.map((host, i) => `${workerName(i)} (${host.address})`) ?? [];
  return { ...(bench ? summarize(bench, workers) : { scenarios: [], goals: [], outputs: [] }), error, model: spec.name, modelBytes, runs, workers };
}

/** Whether a part failed or the outputs differ (the benchmark run should then fail too). */
export function warmupBenchFailed(results: WarmupBenchResults): boolean {
  return results.error !== undefined || results.scenarios.some((scenario) => scenario.error !== undefined) || results.sameOutput === false;
}

type Step = (bench: Bench, round: number) => Promise<void>;

const COLD_STEPS: Step[] = [
  async (bench) => void (await attempt(bench, 'upstreamNoCache', () => upstreamLoad(bench, null, false))),
  async (bench) => void (await attempt(bench, 'upstreamCold', async () => {
    const roots = await freshDirs(bench, 'upstream-cache');
    const measured = await upstreamLoad(bench, roots, false);
    await keepFill(bench, 'upstreamFilled', roots);
    return measured;
  })),
  hearthColdStep,
];

const WARM_STEPS: Step[] = [
  async (bench, round) => {
    await attempt(bench, 'localNoMmap', () => coordinatorLoad(bench, bench.tools, ['-ngl', '0', '--no-mmap'], round === 0));
    await attempt(bench, 'localMmap', () => coordinatorLoad(bench, bench.tools, ['-ngl', '0'], false));
  },
  async (bench, round) => void (await attempt(bench, 'upstreamWarm', async () => {
    if (!bench.upstreamFilled) {
      const roots = await freshDirs(bench, 'upstream-cache');
      await upstreamLoad(bench, roots, false);
      await keepFill(bench, 'upstreamFilled', roots);
    }
    return upstreamLoad(bench, bench.upstreamFilled!, round === 0);
  })),
  async (bench, round) => void (await attempt(bench, 'hearthWarm', async () => {
    if (!bench.hearthFilled) {
      const fill = { cacheDirs: await freshDirs(bench, 'hearth-cache'), dataDir: await coordinatorData(bench) };
      await withHearthWorkers(bench, fill.cacheDirs, (workers) => hearthLoad(bench, workers, fill.dataDir, false));
      await keepFill(bench, 'hearthFilled', fill);
    }
    const { cacheDirs, dataDir } = bench.hearthFilled!;
    return withHearthWorkers(bench, cacheDirs, (workers) => hearthLoad(bench, workers, dataDir, round === 0));
  })),
];

/** Fresh caches and a fresh coordinator (its manifest made by the pre-warm), `hearth warm`, then `hearth load`. */
async function hearthColdStep(bench: Bench): Promise<void> {
  const cacheDirs = await freshDirs(bench, 'hearth-cache');
  const dataDir = await coordinatorData(bench);
  let loaded = false;
  try {
    await withHearthWorkers(bench, cacheDirs, async (workers) => {
      const warm = await attempt(bench, 'hearthPrewarm', () => hearthWarm(bench, workers.peers, dataDir));
      const load = await attempt(bench, 'hearthAfterPrewarm', () => hearthLoad(bench, workers, dataDir, false));
      loaded = load !== undefined;
      if (load && !warm) bench.tally.hearthAfterPrewarm.notes.add('no pre-warm ran before it (hearth warm failed): this is a cold Hearth load, the load itself filling the caches');
      if (warm && load) {
        bench.tally.hearthPrewarmAndLoad.runs.push({ seconds: warm.seconds + load.seconds, links: warm.links.map((bytes, i) => addBytes(bytes, load.links[i]!)) });
      } else {
        bench.tally.hearthPrewarmAndLoad.errors.push(`needs both the pre-warm and the load: ${warm ? 'the load' : 'the pre-warm'} failed`);
      }
      return undefined;
    });
  } catch (caught) {
    for (const key of ['hearthPrewarm', 'hearthAfterPrewarm', 'hearthPrewarmAndLoad'] as const) bench.tally[key].errors.push(message(caught));
  }
  if (loaded) await keepFill(bench, 'hearthFilled', { cacheDirs, dataDir });
  else await Promise.all([...cacheDirs, dataDir].map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Run `measure` as one run of `key`; a failure is kept as the scenario's error, not thrown. */
async function attempt(bench: Bench, key: ScenarioKey, measure: () => Promise<Run>): Promise<Run | undefined> {
  // Upstream's `-c` never syncs its cache files: left dirty (a gigabyte after a cold load), their
  // writeback would land in whichever run came next. Every run starts with nothing to write back.
  await run('sync', [], { timeout: 120_000 });
  // The report's premise: the model and every cache entry are read from memory, as on machines
  // that loaded them recently. This VM's proactive reclaim (DAMON) pages out what nothing touched
  // for about a minute, so a fill kept for later rounds would otherwise come from disk, while the
  // model file every scenario reads stays cached. Read them all (not timed) before each run.
  await readIntoPageCache([bench.model, ...(bench.upstreamFilled ?? []), ...(bench.hearthFilled?.cacheDirs ?? [])]);
  try {
    const measured = await measure();
    bench.tally[key].runs.push(measured);
    process.stderr.write(`  ${SCENARIOS[key]}: ${measured.seconds.toFixed(2)} s\n`);
    return measured;
  } catch (caught) {
    bench.tally[key].errors.push(message(caught));
    process.stderr.write(`  ${SCENARIOS[key]}: failed: ${message(caught).split('\n')[0]}\n`);
    return undefined;
  }
}

/** Read every file of these files and folders once (into the page cache). */
async function readIntoPageCache(paths: string[]): Promise<void> {
  const buffer = Buffer.alloc(4 * 2 ** 20);
  const readAll = async (file: string): Promise<void> => {
    const entry = await stat(file);
    if (entry.isDirectory()) {
      for (const name of await readdir(file)) await readAll(path.join(file, name));
      return;
    }
    const handle = await open(file, 'r');
    try {
      while ((await handle.read(buffer, 0, buffer.length)).bytesRead > 0);
    } finally {
      await handle.close();
    }
  };
  for (const file of paths) await readAll(file);
}

// ---- loads ----

/** A load by unpatched `ggml-rpc-server`s in the worker hosts (`-c` with these cache roots), straight to their addresses. */
async function upstreamLoad(bench: Bench, cacheRoots: string[] | null, complete: boolean): Promise<Run> {
  const parts = bench.workers.map((host, i) => startPart(bench.lab, host, bench.upstream.rpcServer, ['-H', host.address, '-p', String(RPC_PORT), ...(cacheRoots ? ['-c'] : [])], {
    cwd: bench.upstream.cwd,
    env: { ...bench.upstream.env, ...(cacheRoots ? { LLAMA_CACHE: cacheRoots[i] } : {}) },
    // Unpatched, its stdout is block-buffered: readiness is read from the socket table instead.
    stdout: false,
  }));
  try {
    await Promise.all(parts.map((part, i) => untilListening(bench.workers[i]!, RPC_PORT, part)));
    const rpc = bench.workers.map((host) => `${host.address}:${RPC_PORT}`).join(',');
    return await coordinatorLoad(bench, bench.upstreamClient, ['--rpc', rpc, '-ngl', '99', '--tensor-split', '1,1'], complete);
  } finally {
    await Promise.all(parts.map((part) => part.stop('SIGKILL')));
  }
}

/** llama-server in the coordinator host, timed by the fixture from launch to /health ready; one completion after when asked. */
async function coordinatorLoad(bench: Bench, llama: { llamaServer: string; cwd: string }, args: string[], complete: boolean): Promise<Run> {
  const before = await linkCounters(bench.workers);
  const fixtureArgs = [COORDINATOR, 'load', '--llama-server', llama.llamaServer, '--cwd', llama.cwd, '--model', bench.model, '--args', JSON.stringify(args)];
  const part = startPart(bench.lab, bench.coordinator, TSX, complete ? [...fixtureArgs, '--complete', '--prompt', PROMPT, '--tokens', String(TOKENS)] : fixtureArgs, { stdin: true });
  try {
    const ready = await part.next('ready', 'llama-server', LOAD_TIMEOUT_MS);
    const links = difference(before, await linkCounters(bench.workers));
    part.child.stdin!.end('go\n');
    const done = await part.next('done', 'the completion', COMPLETION_TIMEOUT_MS);
    return { seconds: Number(ready.line.seconds), links, text: typeof done.line.text === 'string' ? done.line.text : undefined };
  } finally {
    await part.stop('SIGTERM');
  }
}

interface HearthWorkers {
  peers: string;
  cache(): CacheCounts & { closes: number };
}

/** Two `hearth worker`s of one cluster on these cache folders, each linked on its lab address, for `use`. */
async function withHearthWorkers<T>(bench: Bench, cacheDirs: string[], use: (workers: HearthWorkers) => Promise<T>): Promise<T> {
  const parts = bench.workers.map((host, i) => startPart(bench.lab, host, process.execPath, [
    HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', host.address, '--link-port', '0', '--no-discovery', '--cache-dir', cacheDirs[i]!,
  ], { env: { ...process.env, HEARTH_DATA_DIR: bench.workerData[i] } }));
  try {
    const ready = await Promise.all(parts.map((part, i) => part.next('ready', `the Hearth worker in ${bench.workers[i]!.name}`, WORKER_READY_TIMEOUT_MS)));
    const count = (kind: string) => parts.reduce((sum, part) => sum + part.events.filter((e) => e.line.event === 'cache' && e.line.kind === kind).length, 0);
    return await use({
      peers: ready.map((line, i) => `${bench.workers[i]!.address}:${Number(line.line.linkPort)}`).join(','),
      cache: () => ({ hits: count('hit'), misses: count('miss'), stored: count('store'), closes: count('client-close') }),
    });
  } finally {
    await Promise.all(parts.map((part) => part.stop('SIGINT')));
  }
}

/** `hearth warm` in the coordinator host, timed to its `done` line. */
async function hearthWarm(bench: Bench, peers: string, dataDir: string): Promise<Run> {
  const before = await linkCounters(bench.workers);
  const part = startPart(bench.lab, bench.coordinator, process.execPath, [HEARTH_BIN, 'warm', bench.model, '--peers', peers, '--no-discovery', '--json'], { env: { ...process.env, HEARTH_DATA_DIR: dataDir } });
  try {
    const done = await part.next('done', 'hearth warm', WARM_TIMEOUT_MS).catch((caught: unknown) => {
      throw /unknown command/i.test(part.output()) ? new Error('hearth warm is not available (the CLI in dist/ has no `warm` command yet: `npm run build` once it lands)') : caught;
    });
    bench.prewarmPeers = done.line.peers;
    const unfinished = (Array.isArray(done.line.peers) ? done.line.peers as { name?: string; state?: string; error?: string }[] : []).filter((peer) => peer.state !== 'done');
    if (unfinished.length > 0) throw new Error(`hearth warm did not finish every peer: ${unfinished.map((peer) => `${peer.name}: ${peer.state}${peer.error ? ` (${peer.error})` : ''}`).join('; ')}`);
    return { seconds: done.at / 1000, links: difference(before, await linkCounters(bench.workers)) };
  } finally {
    await part.stop('SIGINT');
  }
}

/** `hearth load` in the coordinator host, timed from its launch to its `ready` line; one completion through its API when asked. */
async function hearthLoad(bench: Bench, workers: HearthWorkers, dataDir: string, complete: boolean): Promise<Run> {
  const before = await linkCounters(bench.workers);
  const cacheBefore = workers.cache();
  const args = [HEARTH_BIN, 'load', bench.model, '--peers', workers.peers, '--no-discovery', '--ctx', String(CONTEXT), '--port', '0', '--json'];
  const part = startPart(bench.lab, bench.coordinator, process.execPath, args, { env: { ...process.env, HEARTH_DATA_DIR: dataDir } });
  let measured: Run;
  try {
    const ready = await part.next('ready', 'hearth load', LOAD_TIMEOUT_MS);
    const links = difference(before, await linkCounters(bench.workers));
    const launched = part.events.find((e) => e.line.event === 'progress' && String(e.line.step).startsWith('loading'));
    bench.plan = ready.line.plan as SplitPlan;
    measured = { seconds: ready.at / 1000, llamaSeconds: launched && (ready.at - launched.at) / 1000, links, hashes: ready.line.hashes };
    if (complete) measured.text = await completeThrough(bench, String(ready.line.api));
  } finally {
    await part.stop('SIGINT');
  }
  // The workers' last lines of this load come once llama-server has gone.
  const deadline = Date.now() + 10_000;
  while (workers.cache().closes < cacheBefore.closes + bench.workers.length && Date.now() < deadline) await sleep(50);
  const after = workers.cache();
  measured.cache = { hits: after.hits - cacheBefore.hits, misses: after.misses - cacheBefore.misses, stored: after.stored - cacheBefore.stored };
  return measured;
}

/** One greedy completion from an OpenAI-compatible API inside the coordinator host. */
async function completeThrough(bench: Bench, api: string): Promise<string> {
  const part = startPart(bench.lab, bench.coordinator, TSX, [COORDINATOR, 'complete', '--url', api, '--prompt', PROMPT, '--tokens', String(TOKENS)]);
  try {
    return String((await part.next('done', 'the completion', COMPLETION_TIMEOUT_MS)).line.text);
  } finally {
    await part.stop('SIGTERM');
  }
}

// ---- lab parts ----

/** Wait until something in `host` listens on TCP `port` (read from the namespace's own socket table). */
async function untilListening(host: LabHost, port: number, part: Part): Promise<void> {
  const wanted = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (part.exited()) throw new Error(`the upstream ggml-rpc-server in ${host.name} exited${part.output() ? `: ${part.output()}` : ''}`);
    const { stdout } = await run('ip', ['netns', 'exec', host.ns, 'cat', '/proc/net/tcp'], { timeout: 10_000 });
    // Columns: sl, local address (hex ip:port), remote address, state (0A: listening).
    if (stdout.split('\n').some((line) => {
      const [, local, , state] = line.trim().split(/\s+/);
      return local?.endsWith(wanted) && state === '0A';
    })) return;
    await sleep(100);
  }
  throw new Error(`the upstream ggml-rpc-server in ${host.name} did not listen on port ${port} within ${LISTEN_TIMEOUT_MS / 1000} s`);
}

/** Each host's cable counters, read inside its namespace. */
async function linkCounters(hosts: LabHost[]): Promise<{ received: number; sent: number }[]> {
  return Promise.all(hosts.map(async (host) => {
    const { stdout } = await run('ip', ['netns', 'exec', host.ns, 'cat', `${STATS}/rx_bytes`, `${STATS}/tx_bytes`], { timeout: 10_000 });
    const [received, sent] = stdout.trim().split(/\s+/).map(Number);
    return { received: received!, sent: sent! };
  }));
}

function difference(before: Run['links'], after: Run['links']): Run['links'] {
  return after.map((bytes, i) => ({ received: bytes.received - before[i]!.received, sent: bytes.sent - before[i]!.sent }));
}

function addBytes(a: Run['links'][number], b: Run['links'][number]): Run['links'][number] {
  return { received: a.received + b.received, sent: a.sent + b.sent };
}

// ---- folders and builds ----

/** Hearth's llama-server with upstream's RPC module beside it (as tests/core/worker/upstream-compat.test.ts does). */
async function upstreamClientBuild(tools: LlamaTools, upstream: LlamaTools, scratch: string): Promise<{ llamaServer: string; cwd: string }> {
  const binDir = path.join(scratch, 'upstream-client');
  await cp(tools.binDir, binDir, { recursive: true, verbatimSymlinks: true });
  const rpcModule = (await readdir(upstream.binDir)).find((name) => /ggml-rpc\.(so|dll|dylib)$/.test(name));
  if (!rpcModule) throw new Error(`the upstream build in ${upstream.binDir} has no RPC backend module`);
  await rm(path.join(binDir, rpcModule));
  await cp(path.join(upstream.binDir, rpcModule), path.join(binDir, rpcModule));
  return { llamaServer: path.join(binDir, path.basename(tools.llamaServer)), cwd: binDir };
}

/** One new, empty folder per worker. */
async function freshDirs(bench: Bench, prefix: string): Promise<string[]> {
  const n = bench.dirs++;
  return Promise.all(bench.workers.map(async (host) => {
    const dir = path.join(bench.scratch, `${prefix}-${n}-${host.name}`);
    // Upstream's cache lives in $LLAMA_CACHE/rpc.
    await mkdir(path.join(dir, 'rpc'), { recursive: true });
    return dir;
  }));
}

/** A new coordinator data folder, a member of the lab's cluster, without any manifest yet. */
async function coordinatorData(bench: Bench): Promise<string> {
  const dir = path.join(bench.scratch, `coordinator-data-${bench.dirs++}`);
  await saveIdentity(dir, { deviceId: randomUUID(), deviceName: 'coordinator', clusterKey: bench.clusterKey });
  return dir;
}

/** Keep this fill for the warm scenarios, removing the one it replaces (the disk holds one of each). */
async function keepFill<K extends 'upstreamFilled' | 'hearthFilled'>(bench: Bench, key: K, fill: NonNullable<Bench[K]>): Promise<void> {
  const old = bench[key];
  bench[key] = fill;
  if (!old) return;
  const dirs = Array.isArray(old) ? old : [...old.cacheDirs, old.dataDir];
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

// ---- results ----

function summarize(bench: Bench, workers: string[]): Pick<WarmupBenchResults, 'scenarios' | 'goals' | 'shares' | 'outputs' | 'sameOutput' | 'prewarmPeers'> {
  const scenarios = (Object.keys(SCENARIOS) as ScenarioKey[]).map((key): WarmupScenario => {
    const { runs, errors, notes } = bench.tally[key];
    const scenario: WarmupScenario = { key, name: SCENARIOS[key], notes: [...notes], error: errors[0] };
    if (runs.length === 0) return scenario;
    const measured = (values: number[]): Measured => ({ median: median(values), runs: values });
    scenario.seconds = measured(runs.map((r) => r.seconds));
    const llama = runs.map((r) => r.llamaSeconds).filter((s): s is number => s !== undefined);
    if (llama.length > 0) scenario.llamaSeconds = measured(llama);
    scenario.links = workers.map((worker, i) => ({ worker, received: median(runs.map((r) => r.links[i]!.received)), sent: median(runs.map((r) => r.links[i]!.sent)) }));
    scenario.cache = runs.at(-1)!.cache;
    scenario.hashes = runs.at(-1)!.hashes;
    return scenario;
  });
  const seconds = (key: ScenarioKey) => scenarios.find((s) => s.key === key)?.seconds?.median;
  const goal = (name: string, of: ScenarioKey, to: ScenarioKey, limit: number, strict: boolean): WarmupGoal => {
    const a = seconds(of);
    const b = seconds(to);
    const ratio = a === undefined || b === undefined ? undefined : a / b;
    return { name, ratio, limit, strict, met: ratio === undefined ? undefined : strict ? ratio < limit : ratio <= limit };
  };
  const outputs = (Object.keys(SCENARIOS) as ScenarioKey[]).flatMap((scenario) =>
    bench.tally[scenario].runs.filter((r) => r.text !== undefined).map((r) => ({ scenario, text: r.text! })));
  return {
    scenarios,
    goals: [
      goal('Hearth warm / local load', 'hearthWarm', 'localNoMmap', WARMUP_GOALS.warmVsLocal, false),
      goal('Hearth warm / upstream warm', 'hearthWarm', 'upstreamWarm', 1, true),
      goal('Hearth pre-warm + load / upstream cold', 'hearthPrewarmAndLoad', 'upstreamCold', 1, false),
    ],
    shares: bench.plan && shares(bench.plan),
    outputs,
    sameOutput: outputs.length >= 2 ? new Set(outputs.map((o) => o.text)).size === 1 : undefined,
    prewarmPeers: bench.prewarmPeers,
  };
}

function shares(plan: SplitPlan): WorkerShare[] {
  return plan.devices.map((device) => ({
    worker: device.device.machine,
    layers: [device.layers ? `layers ${device.layers.first}-${device.layers.last}` : 'no layers', device.holdsOutput ? 'output' : null].filter(Boolean).join(' + '),
    tensors: device.tensors.length,
    bytes: device.tensors.reduce((sum, t) => sum + t.byteSize, 0),
    cachedBytes: device.tensors.filter(isCachedTensor).reduce((sum, t) => sum + t.byteSize, 0),
    upstreamCachedBytes: device.tensors.filter((t) => t.byteSize > RPC_HASH_THRESHOLD).reduce((sum, t) => sum + t.byteSize, 0),
  }));
}

/** The report's section on cache warm-up. */
export function warmupReportSection(results: WarmupBenchResults): string[] {
  const lines = ['## Cache warm-up: two workers on a 1 Gbit LAN (launch of the load to ready)', ''];
  if (results.skipped) return [...lines, `Skipped: ${results.skipped}.`, ''];
  if (results.error) lines.push(`**The benchmark stopped:** ${results.error.split('\n')[0]}`, '');
  const size = results.modelBytes === undefined ? '' : `, ${(results.modelBytes / 2 ** 30).toFixed(2)} GiB F16`;
  lines.push(
    `Synthetic ${results.model}${size}. A coordinator and two workers in network namespaces on a bridge, each host's cable shaped with \`tc tbf rate 1gbit\`; ` +
      `\`-ngl 99 --tensor-split 1,1\` (Hearth: its planner's split, below). Upstream: unpatched \`ggml-rpc-server\` and llama-server with upstream's RPC module, timed from launching llama-server to \`/health\` ready. ` +
      `Hearth: \`hearth worker\` in each worker host, \`hearth warm\` timed to its \`done\` line and \`hearth load\` from its launch to its \`ready\` line (the command's start, links, plan and announcement included; llama-server's own part in brackets). ` +
      `Medians of ${results.runs}; cold scenarios alternate within each round, then warm and local ones.`,
    '',
  );
  const local = results.scenarios.find((s) => s.key === 'localNoMmap')?.seconds?.median;
  lines.push(`| scenario | seconds | vs local load | ${results.workers.map((w) => `${w} in / out`).join(' | ')} | runs |`, `|---|---|---|${results.workers.map(() => '---|').join('')}---|`);
  for (const s of results.scenarios) {
    if (!s.seconds) {
      lines.push(`| ${s.name} | error: ${(s.error ?? 'not run').split('\n')[0]!.replaceAll('|', '/')} | – |${results.workers.map(() => ' – |').join('')} – |`);
      continue;
    }
    const llama = s.llamaSeconds ? ` (${s.llamaSeconds.median.toFixed(2)})` : '';
    const ratio = local === undefined ? '–' : `${(s.seconds.median / local).toFixed(2)}×`;
    const bytes = (s.links ?? []).map((l) => ` ${mb(l.received)} / ${mb(l.sent)} |`).join('');
    lines.push(`| ${s.name} | ${s.seconds.median.toFixed(2)}${llama} | ${ratio} |${bytes} ${s.seconds.runs.map((r) => r.toFixed(2)).join(', ')} |`);
  }
  lines.push('');
  for (const g of results.goals) {
    const limit = `${g.strict ? '<' : '≤'} ${g.limit}×`;
    lines.push(g.ratio === undefined ? `- ${g.name}: no figure (a scenario failed), goal ${limit}: **not met**` : `- ${g.name}: **${g.ratio.toFixed(2)}×** (goal ${limit}): ${g.met ? 'met' : '**not met**'}`);
  }
  const byKey = (key: ScenarioKey) => results.scenarios.find((s) => s.key === key);
  if (results.sameOutput !== undefined) {
    lines.push(`- greedy output (${TOKENS} tokens): ${results.sameOutput ? 'identical' : '**different**'} across ${results.outputs.map((o) => byKey(o.scenario)!.name.split(' (')[0]).join(', ')}`);
  } else {
    lines.push(`- greedy output: **not compared** (${results.outputs.length} completion${results.outputs.length === 1 ? '' : 's'} made)`);
  }
  if (results.shares) {
    lines.push(`- Hearth's split: ${results.shares.map((s) => `${s.worker} ${s.layers}, ${s.tensors} tensors, ${mb(s.bytes)} (${mb(s.cachedBytes)} in tensors of 1 MiB or more, what its cache holds)`).join('; ')}`);
    // What neither cache holds crosses the links at every load, warm or not, one tensor at a time.
    const uncached = (cached: (share: WorkerShare) => number) => results.shares!.reduce((sum, share) => sum + share.bytes - cached(share), 0);
    const atEveryLoad = (who: string, bytes: number) => {
      const floor = bytes / LINK_DATA_BYTES_PER_SECOND;
      return `${who} ${mb(bytes)} (${floor.toFixed(2)} s at 119 MB/s${local === undefined ? '' : `, ${(floor / local).toFixed(2)}× the local load`})`;
    };
    lines.push(`- sent at every load, warm or not: ${atEveryLoad('upstream (tensors up to its 10 MiB threshold)', uncached((share) => share.upstreamCachedBytes))}; ${atEveryLoad('Hearth (tensors under 1 MiB)', uncached((share) => share.cachedBytes))}`);
    const prewarm = byKey('hearthPrewarm')?.links;
    // The plan lists devices in its own order, the links go by worker: pair them by name.
    const shareOf = (worker: string) => results.shares!.find((share) => worker.startsWith(`${share.worker} `));
    if (prewarm) lines.push(`- the pre-warm moved ${prewarm.map((l) => `${mb(l.received)} to ${l.worker} (${(l.received / (shareOf(l.worker)?.cachedBytes ?? Number.NaN)).toFixed(3)}× its cached share)`).join(', ')}`);
  }
  for (const key of ['hearthAfterPrewarm', 'hearthWarm'] as const) {
    const s = byKey(key);
    if (s?.cache) lines.push(`- ${s.name}: the workers' caches hit ${s.cache.hits}, missed ${s.cache.misses}, stored ${s.cache.stored} entries (last run); RPC client: ${describeHashes(s.hashes)}`);
  }
  for (const s of results.scenarios) for (const note of s.notes) lines.push(`- ${s.name}: ${note}`);
  if (Array.isArray(results.prewarmPeers)) {
    const peers = results.prewarmPeers as { name?: string; state?: string; pushedBytes?: number; filledBytes?: number; fetchedBytes?: number; seconds?: number }[];
    lines.push(`- \`hearth warm\` (last run) reported: ${peers.map((p) => `${p.name} ${p.state}, ${mb(p.pushedBytes ?? 0)} pushed, ${mb(p.filledBytes ?? 0)} filled from its own disk, ${mb(p.fetchedBytes ?? 0)} fetched from members, in ${(p.seconds ?? 0).toFixed(1)} s`).join('; ')}`);
  }
  lines.push('- each pre-warm starts from a new coordinator data folder, so it includes making the model\'s hash manifest (once per model file; a later pre-warm or load reuses it)');
  lines.push('- before every timed run the benchmark flushes dirty pages to disk (`sync`, not timed): upstream `-c` never syncs its cache files (a gigabyte dirty after a cold load), and their writeback would otherwise land in whichever run came next');
  lines.push('- and then reads the model and every kept cache folder once (not timed): this VM pages out what nothing touched for about a minute (DAMON proactive reclaim), which would leave a kept fill on disk while the model file every scenario reads stays in memory');
  lines.push(
    '- in / out: bytes each worker\'s cable received and sent during one run (medians), read from the veth counters in its namespace; 1 Gbit/s leaves about 119 MB/s for data.',
    '- The local load reads the whole file into memory (`--no-mmap`, the baseline, as in the loads benchmark); with mmap (llama-server\'s default) it maps the file and only touches pages as they are used, so it is no fair floor for a load that must move the bytes into workers\' memory.',
    '- The lab\'s three machines share this machine\'s cores and its page cache (the model file and every cache entry are read from memory here, as on a machine that loaded them recently).',
    '',
  );
  return lines;
}

function describeHashes(hashes: unknown): string {
  if (!hashes || typeof hashes !== 'object') return 'no summary line';
  const use = hashes as { fromManifest?: number; hashed?: number; refused?: string | null };
  return `${use.fromManifest} hashes from Hearth's manifest, ${use.hashed} hashed at load${use.refused ? `, manifest refused: ${use.refused}` : ''}`;
}

function mb(bytes: number): string {
  return bytes >= 1e8 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function workerName(index: number): string {
  return `worker-${index + 1}`;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const at = by % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

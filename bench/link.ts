// The secure link's cost against raw TCP on a lab LAN shaped to 1 Gbit: bulk throughput, and
// generation tokens/s through two workers; each a ratio to the raw figure measured in the same run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { benchModel } from './models.js';
import { HEARTH_BIN, REPO_ROOT } from '../tests/helpers/cli.js';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../tests/helpers/netns.js';
import { startPart } from './lab-part.js';
import { median } from './measure.js';

/** The goals: the link keeps at least these fractions of raw TCP. */
const LINK_GOALS = { bulk: 0.9, generation: 0.95 } as const;

const BULK_BYTES = 256 * 2 ** 20;
const ROUND_TRIPS = 2000;
const PROMPT = 'The secure link carries every tensor and every token';
const TOKENS = 32;
const COMPLETIONS_PER_LOAD = 5;
// Loads of each setting per route, whatever HEARTH_BENCH_RUNS says: on this 2-core machine single
// completions spread ±15%, and 3 loads (15 pairs) gave 0.94× to 1.02× from run to run. 6 loads make
// 30 pairs: less noise, though two such runs still gave 0.91× and 0.97×.
const MIN_GENERATION_LOADS = 6;
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SINK = 'tests/fixtures/bench-link-sink.ts';
const GENERATE = 'tests/fixtures/bench-link-generate.ts';
const READY_TIMEOUT_MS = 60_000;
const WORKER_READY_TIMEOUT_MS = 180_000;
const SEND_TIMEOUT_MS = 150_000;
const GENERATE_TIMEOUT_MS = 600_000;

// What one token costs through the link is a fixed few RPC round trips, so its share of a token
// depends on how long the token takes: the goal is judged on the larger model (tens of ms a
// token, nearer the big models Hearth is for); the small one shows the fixed cost at its worst.
// The lab's three "machines" share this machine's cores: llama-server's threads spinning on
// every core (its defaults) starve the link's processes, which separate machines would not, so
// the goal is judged with one thread that does not spin; the default is shown beside it.
const GENERATION_SETTINGS = [
  { model: syntheticPresets.benchmark, threads: 1, poll: 0, goal: LINK_GOALS.generation },
  { model: syntheticPresets.cacheSized, threads: 1, poll: 0, goal: undefined },
  { model: syntheticPresets.cacheSized, threads: 2, poll: 50, goal: undefined },
] as const;

function settingLabel(setting: (typeof GENERATION_SETTINGS)[number]): string {
  const size = setting.model === syntheticPresets.benchmark ? '1.25 GiB' : '108 MiB';
  return `${setting.model.name} (${size}), llama-server -t ${setting.threads} --poll ${setting.poll}${setting.poll ? ' (every core, spinning)' : ''}`;
}

/** A figure's median and every run. */
export interface Measured {
  median: number;
  runs: number[];
}

/** One figure, raw TCP against the link; `error` instead of numbers when that part failed. */
export interface LinkFigure {
  name: string;
  unit: string;
  raw?: Measured;
  link?: Measured;
  /** link / raw. */
  ratio?: number;
  /** The least ratio the issue asks for, where it asks for one. */
  goal?: number;
  error?: string;
}

/** What the benchmark measured, or why it could not. */
export interface LinkBenchResults {
  skipped?: string;
  figures: LinkFigure[];
  /** Whether every greedy completion, raw and through the link, gave the same tokens. */
  sameTokens?: boolean;
  generationModel?: string;
}

/** Measure every figure in labs of network namespaces (root only), `runs` rounds of each (at least 3 for the cheap ones). */
export async function benchLink(options: { runs: number }): Promise<LinkBenchResults> {
  const namespaces = await canCreateNamespaces();
  if (!namespaces.ok) return { skipped: namespaces.reason, figures: [] };
  const results: LinkBenchResults = { figures: [] };
  process.stderr.write('Measuring bulk throughput and round trips over the lab link…\n');
  try {
    results.figures.push(...await benchTransport(Math.max(3, options.runs)));
  } catch (error) {
    results.figures.push({ name: 'bulk throughput and round trips', unit: '', error: message(error) });
  }
  process.stderr.write('Measuring generation through two workers over the lab link…\n');
  try {
    const generation = await benchGeneration(Math.max(MIN_GENERATION_LOADS, options.runs));
    results.figures.push(...generation.figures);
    Object.assign(results, { sameTokens: generation.sameTokens, generationModel: generation.generationModel });
  } catch (error) {
    results.figures.push({ name: 'generation through two workers', unit: '', error: message(error) });
  }
  return results;
}

/** Whether a part failed (the benchmark run should then fail too). */
export function linkBenchFailed(results: LinkBenchResults): boolean {
  return results.figures.some((figure) => figure.error !== undefined) || results.sameTokens === false;
}

/** The report's section on the link. */
export function linkReportSection(results: LinkBenchResults): string[] {
  const lines = ['## The secure link on a 1 Gbit link', ''];
  if (results.skipped) return [...lines, `Skipped: ${results.skipped}.`, ''];
  lines.push(
    'Network namespaces on a bridge, each host\'s cable shaped with `tc tbf rate 1gbit`. Raw: plain TCP to the service on the LAN (`hearth worker --open-lan` for the workers). ' +
      'Link: a loopback endpoint on the connecting machine, TLS 1.2 PSK (ECDHE, ChaCha20-Poly1305) to the other machine\'s link server, which forwards to the service on its loopback.',
    '',
    '| figure | raw TCP | secure link | link / raw (median of paired runs) | goal | runs (raw; link) |',
    '|---|---|---|---|---|---|',
  );
  for (const figure of results.figures) {
    if (figure.error !== undefined || !figure.raw || !figure.link || figure.ratio === undefined) {
      lines.push(`| ${figure.name} | failed | failed | – | – | ${(figure.error ?? 'no figures').split('\n')[0]!.replaceAll('|', '/')} |`);
      continue;
    }
    const digits = figure.raw.median >= 100 ? 0 : 1;
    const runs = (m: Measured) => (m.runs.length <= 6
      ? m.runs.map((value) => value.toFixed(digits)).join(', ')
      : `${Math.min(...m.runs).toFixed(digits)} to ${Math.max(...m.runs).toFixed(digits)} (${m.runs.length} runs)`);
    const goal = figure.goal === undefined ? '–' : `≥ ${figure.goal}: ${figure.ratio >= figure.goal ? 'met' : '**not met**'}`;
    lines.push(`| ${figure.name} (${figure.unit}) | ${figure.raw.median.toFixed(digits)} | ${figure.link.median.toFixed(digits)} | **${figure.ratio.toFixed(3)}** | ${goal} | ${runs(figure.raw)}; ${runs(figure.link)} |`);
  }
  lines.push('');
  if (results.sameTokens !== undefined) {
    lines.push(`- generated tokens, raw vs link: ${results.sameTokens ? 'identical' : '**different**'} (${results.generationModel}, each model greedy on the same prompt, ${TOKENS} tokens; ${COMPLETIONS_PER_LOAD} completions per load, loads alternating raw and link)`);
  }
  for (const figure of results.figures) {
    if (figure.unit !== 'tokens/s' || !figure.raw || !figure.link) continue;
    const added = 1000 / figure.link.median - 1000 / figure.raw.median;
    lines.push(`- ${figure.name}: ${(1000 / figure.raw.median).toFixed(2)} ms a token raw, the link adds **${added.toFixed(2)} ms** a token (a fixed cost: the slower the model, the smaller the fraction)`);
  }
  lines.push(
    '- 1 Gbit/s is 125 MB/s on the wire; Ethernet, IP and TCP headers leave about 119 MB/s for data.',
    '- The lab\'s machines share this machine\'s cores; the generation goal is judged on the 1.25 GiB model with llama-server on one non-spinning thread, leaving a core to the link\'s processes as separate machines would.',
    '',
  );
  return lines;
}

/** Start a fixture part and wait for its `ready` line. */
async function readyPart(lab: Lab, host: LabHost, args: string[], what: string, env?: NodeJS.ProcessEnv): Promise<number> {
  const { line: ready } = await startPart(lab, host, TSX, args, { env }).next('ready', what, READY_TIMEOUT_MS);
  return Number(ready.port);
}

/** Bulk throughput host2 → host1 in MB/s and small round trips in µs, raw and through the link, alternating which goes first. */
async function benchTransport(rounds: number): Promise<LinkFigure[]> {
  const lab = await createLab({ hosts: 2, rate: '1gbit' });
  try {
    const [receiver, sender] = lab.hosts as [LabHost, LabHost];
    const env = { ...process.env, HEARTH_BENCH_KEY: randomBytes(32).toString('base64') };
    const sinkPort = await readyPart(lab, receiver, [SINK, 'sink', '--host', receiver.address, '--bytes', String(BULK_BYTES)], 'the sink');
    const echoPort = await readyPart(lab, receiver, [SINK, 'echo', '--host', receiver.address], 'the echo');
    const linkArgs = ['--host', receiver.address, '--target-host', receiver.address, '--target-port', String(sinkPort), '--echo-port', String(echoPort)];
    const linkPort = await readyPart(lab, receiver, [SINK, 'link', ...linkArgs], 'the link server', env);
    const endpoint = (service: string) => readyPart(lab, sender, [SINK, 'endpoint', '--host', receiver.address, '--port', String(linkPort), '--service', service], `the local ${service} endpoint`, env);
    const sinkEndpoint = await endpoint('rpc');
    const echoEndpoint = await endpoint('control');
    const inSender = async (args: string[], what: string) => (await startPart(lab, sender, TSX, [SINK, ...args]).next('done', what, SEND_TIMEOUT_MS)).line;
    const send = async (host: string, port: number): Promise<number> => {
      const done = await inSender(['send', '--host', host, '--port', String(port), '--bytes', String(BULK_BYTES)], 'the sender');
      return BULK_BYTES / Number(done.seconds) / 1e6;
    };
    const ping = async (host: string, port: number): Promise<number> => {
      const done = await inSender(['ping', '--host', host, '--port', String(port), '--count', String(ROUND_TRIPS)], 'the pinger');
      return median(done.microseconds as number[]);
    };
    const bulk = { raw: [] as number[], link: [] as number[] };
    const trips = { raw: [] as number[], link: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      for (const route of i % 2 ? (['link', 'raw'] as const) : (['raw', 'link'] as const)) {
        bulk[route].push(route === 'raw' ? await send(receiver.address, sinkPort) : await send('127.0.0.1', sinkEndpoint));
        trips[route].push(route === 'raw' ? await ping(receiver.address, echoPort) : await ping('127.0.0.1', echoEndpoint));
      }
    }
    return [
      { name: `bulk throughput host2 → host1, ${BULK_BYTES / 2 ** 20} MiB a run`, unit: 'MB/s', ...compare(bulk.raw, bulk.link), goal: LINK_GOALS.bulk },
      { name: `round trip of 64 bytes, median of ${ROUND_TRIPS} a run`, unit: 'µs, lower is better', ...compare(trips.raw, trips.link) },
    ];
  } finally {
    await lab.destroy();
  }
}

interface LabWorker {
  host: LabHost;
  rpcPort: number;
  linkPort: number;
  clusterKey: string;
}

/** Tokens/s of models split over two `hearth worker`s: raw (`--open-lan`) against their links, `loads` loads of each per setting. */
async function benchGeneration(loads: number): Promise<Required<Pick<LinkBenchResults, 'figures' | 'sameTokens' | 'generationModel'>>> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-link-'));
  let lab: Lab | undefined;
  try {
    const models = new Map<string, string>();
    for (const { model: spec } of GENERATION_SETTINGS) {
      if (models.has(spec.name)) continue;
      models.set(spec.name, (await benchModel(spec)).file);
    }
    lab = await createLab({ hosts: 3, rate: '1gbit' });
    const [coordinator, ...workerHosts] = lab.hosts as [LabHost, LabHost, LabHost];
    const workers = await Promise.all(workerHosts.map((host) => startWorker(lab!, host, scratch)));
    // The coordinator's ends of the links, as Hearth runs them: on its loopback, outside llama-server.
    const endpoints = await Promise.all(workers.map((worker) =>
      readyPart(lab!, coordinator, [SINK, 'endpoint', '--host', worker.host.address, '--port', String(worker.linkPort)], `the endpoint to ${worker.host.name}`, { ...process.env, HEARTH_BENCH_KEY: worker.clusterKey })));
    const rpc = {
      raw: workers.map((worker) => `${worker.host.address}:${worker.rpcPort}`).join(','),
      link: endpoints.map((port) => `127.0.0.1:${port}`).join(','),
    };
    const speeds = GENERATION_SETTINGS.map(() => ({ raw: [] as number[], link: [] as number[] }));
    // Greedy output must not depend on the route, per model.
    const outputs = new Map<string, Set<string>>();
    for (let i = 0; i < loads; i++) {
      for (const [s, setting] of GENERATION_SETTINGS.entries()) {
        for (const route of i % 2 ? (['link', 'raw'] as const) : (['raw', 'link'] as const)) {
          const args = [
            GENERATE, '--model', models.get(setting.model.name)!, '--rpc', rpc[route], '--prompt', PROMPT, '--tokens', String(TOKENS),
            '--completions', String(COMPLETIONS_PER_LOAD), '--threads', String(setting.threads), '--poll', String(setting.poll),
          ];
          const { line: done } = await startPart(lab, coordinator, TSX, args).next('done', `llama-server over ${route === 'raw' ? 'raw TCP' : 'the link'}`, GENERATE_TIMEOUT_MS);
          const seen = outputs.get(setting.model.name) ?? new Set<string>();
          outputs.set(setting.model.name, seen);
          for (const run of done.runs as { tokensPerSecond: number; tokens: number[] }[]) {
            speeds[s]![route].push(run.tokensPerSecond);
            seen.add(JSON.stringify(run.tokens));
          }
        }
      }
    }
    return {
      generationModel: [...models.keys()].join(' and '),
      sameTokens: [...outputs.values()].every((seen) => seen.size === 1),
      figures: GENERATION_SETTINGS.map((setting, s) => ({
        name: `generation through two workers, ${settingLabel(setting)}`,
        unit: 'tokens/s',
        ...compare(speeds[s]!.raw, speeds[s]!.link),
        goal: setting.goal,
      })),
    };
  } finally {
    await lab?.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `hearth worker` in a lab host, its RPC server also open on the LAN (the raw path), and its cluster key. */
async function startWorker(lab: Lab, host: LabHost, scratch: string): Promise<LabWorker> {
  const dataDir = path.join(scratch, `${host.name}-data`);
  const args = [
    HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', host.address, '--link-port', '0',
    '--cache-dir', path.join(scratch, `${host.name}-cache`), '--open-lan', '--no-discovery',
  ];
  const { line: ready } = await startPart(lab, host, process.execPath, args, { env: { ...process.env, HEARTH_DATA_DIR: dataDir } }).next('ready', `the worker in ${host.name}`, WORKER_READY_TIMEOUT_MS);
  const identity = JSON.parse(await readFile(path.join(dataDir, 'cluster.json'), 'utf8')) as { clusterKey: string };
  return { host, rpcPort: Number(String(ready.rpc).split(':').at(-1)), linkPort: Number(ready.linkPort), clusterKey: identity.clusterKey };
}

/**
 * Raw and link runs are measured in pairs, next to each other (run i of each belongs to the same
 * round): the ratio is the median of the pairs' ratios, so the machine's drift between rounds
 * (other work on its two cores) cancels out instead of deciding the figure.
 */
function compare(raw: number[], link: number[]): Pick<LinkFigure, 'raw' | 'link' | 'ratio'> {
  const measured = (runs: number[]): Measured => ({ median: median(runs), runs });
  return { raw: measured(raw), link: measured(link), ratio: median(link.map((value, i) => value / raw[i]!)) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

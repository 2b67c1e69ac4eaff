// Healing and keep-warm, in a lab of network namespaces with 1 Gbit cables (root only):
// - heal: `hearth load` over two workers with warm caches; one worker killed with SIGKILL; the
//   time until the API answers again, against a warm load of the same plan measured in the same
//   round (goal: at most 1.5× the warm load plus the time it took to notice);
// - keep-warm: a load over one worker, a second member joining, keep-warm pushing its share in
//   the background; then the next load over both: what crossed each link (goal: no cached
//   tensor, only tensors under 1 MiB, each sent once).
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHED_TENSOR_MIN_BYTES } from '../src-main/core/gguf/inspect-model.js';
import { ensureTools } from '../src-main/core/native/tools.js';
import { completeInside, hearthInLab, killHard, pairedMachines, startLabWorker, type LabMachine, type LabProcess } from '../tests/helpers/lab-cluster.js';
import { canCreateNamespaces, createLab, type Lab } from '../tests/helpers/netns.js';
import { syntheticPresets } from '../tests/helpers/synthetic/llama-model.js';
import { median } from './measure.js';
import { benchModel } from './models.js';

const PROMPT = 'The cluster heals';
const TOKENS = 8;

/** One round of the heal scenario, in seconds. */
export interface HealRound {
  warmLoad: number;
  /** From the kill to the `healing` line: the time it took to notice. */
  notice: number;
  /** From the kill to the first answer through the API. */
  answering: number;
}

/** What a link carried in the load after keep-warm, against the bytes of the tensors under 1 MiB the plan puts on that peer. */
export interface KeepWarmLink {
  peer: string;
  bytesTransferred: number;
  smallTensorBytes: number;
  cachedTensorsSent: number;
}

export interface HealBenchResults {
  skipped?: string;
  error?: string;
  runs: number;
  rounds: HealRound[];
  /** Median of (answering - notice) / warm load: the goal is at most 1.5. */
  healRatio?: number;
  keepWarm?: { links: KeepWarmLink[]; seconds: number };
  sameOutput?: boolean;
}

/** Measure `runs` heals and one keep-warm in a fresh lab. */
export async function benchHeal(options: { runs: number }): Promise<HealBenchResults> {
  const runs = Math.max(1, options.runs);
  const namespaces = await canCreateNamespaces();
  if (!namespaces.ok) return { skipped: namespaces.reason, runs, rounds: [] };
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-heal-'));
  const results: HealBenchResults = { runs, rounds: [] };
  let lab: Lab | undefined;
  try {
    await ensureTools();
    const { file: model } = await benchModel(syntheticPresets.benchmark);
    lab = await createLab({ hosts: 3, rate: '1gbit' });
    const machines = await pairedMachines(lab, (prefix) => mkdtempSync(path.join(scratch, prefix)));
    await healRounds(lab, machines, model, results);
    results.keepWarm = await keepWarmLoad(lab, await pairedMachines(lab, (prefix) => mkdtempSync(path.join(scratch, prefix))), model);
  } catch (caught) {
    results.error = (caught as Error).message;
  } finally {
    await lab?.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
  if (results.rounds.length > 0) results.healRatio = median(results.rounds.map((round) => (round.answering - round.notice) / round.warmLoad));
  return results;
}

/** Whether the benchmark failed, or an answer after a heal differed from the one before. */
export function healBenchFailed(results: HealBenchResults): boolean {
  return results.error !== undefined || results.sameOutput === false;
}

async function healRounds(lab: Lab, machines: LabMachine[], model: string, results: HealBenchResults): Promise<void> {
  const [coordinator, ...workerMachines] = machines as [LabMachine, LabMachine, LabMachine];
  const workers = await Promise.all(workerMachines.map((machine) => startLabWorker(lab, machine)));
  const peers = workers.map((worker, index) => `${workerMachines[index]!.host.address}:${worker.events.find((event) => event.event === 'ready')!.linkPort}`).join(',');
  const load = () => hearthInLab(lab, coordinator, ['load', model, '--port', '0', '--peers', peers, '--no-discovery', '--no-keep-warm']);
  process.stderr.write('Heal benchmark: filling the workers\' caches…\n');
  const fill = load();
  await readyOf(fill);
  await stopped(fill);
  for (let round = 0; round < results.runs; round++) {
    process.stderr.write(`Heal benchmark, round ${round + 1} of ${results.runs}…\n`);
    const started = performance.now();
    const serving = load();
    const ready = await readyOf(serving);
    const warmLoad = (performance.now() - started) / 1000;
    const before = await completeInside(lab, coordinator, ready.api, PROMPT, TOKENS);
    const killedAt = performance.now();
    killHard(workers[1]!);
    await serving.next('healing', undefined, 60_000);
    const notice = (performance.now() - killedAt) / 1000;
    let after = await completeInside(lab, coordinator, ready.api, PROMPT, TOKENS);
    // 503 with Retry-After while it loads again: ask again, as clients do.
    while (after.status === 503) after = await completeInside(lab, coordinator, ready.api, PROMPT, TOKENS);
    const answering = (performance.now() - killedAt) / 1000;
    results.sameOutput = (results.sameOutput ?? true) && after.text === before.text && after.text !== null;
    results.rounds.push({ warmLoad, notice, answering });
    await stopped(serving);
    workers[1] = await startLabWorker(lab, workerMachines[1]!, Number(workers[1]!.events.find((event) => event.event === 'ready')!.linkPort));
  }
  // The keep-warm part starts workers of its own on these hosts.
  for (const worker of workers) await stopped(worker);
}

/** A load over one worker, a second one joining and warmed in the background, then the next load over both. */
async function keepWarmLoad(lab: Lab, machines: LabMachine[], model: string): Promise<NonNullable<HealBenchResults['keepWarm']>> {
  const [coordinator, first, joiner] = machines as [LabMachine, LabMachine, LabMachine];
  process.stderr.write('Keep-warm benchmark: a load over one worker, then a second one joins…\n');
  await startLabWorker(lab, first);
  const serving = hearthInLab(lab, coordinator, ['load', model, '--port', '0', '--wait', '4']);
  await readyOf(serving);
  await serving.next('keep-warm', (event) => event.state === 'idle', 120_000);
  const joinedAt = performance.now();
  await startLabWorker(lab, joiner);
  await serving.next('keep-warm', (event) => event.state === 'warming', 60_000);
  await serving.next('keep-warm', (event) => event.state === 'idle', 600_000);
  const seconds = (performance.now() - joinedAt) / 1000;
  await stopped(serving);
  const next = hearthInLab(lab, coordinator, ['load', model, '--port', '0', '--wait', '4', '--no-keep-warm']);
  const ready = await readyOf(next);
  await stopped(next);
  const links = ready.cache.map((peer) => ({
    peer: peer.peer,
    bytesTransferred: peer.bytesTransferred,
    cachedTensorsSent: peer.entriesTransferred,
    smallTensorBytes: ready.plan.devices.filter((device) => device.device.peerId === peer.peerId).flatMap((device) => device.tensors).filter((tensor) => tensor.byteSize < CACHED_TENSOR_MIN_BYTES).reduce((sum, tensor) => sum + tensor.byteSize, 0),
  }));
  return { links, seconds };
}

interface Ready {
  api: string;
  plan: { devices: { device: { peerId: string | null }; tensors: { byteSize: number }[] }[] };
  cache: { peerId: string; peer: string; bytesTransferred: number; entriesTransferred: number }[];
}

async function readyOf(running: LabProcess): Promise<Ready> {
  return (await running.next('ready', undefined, 600_000)) as unknown as Ready;
}

async function stopped(running: LabProcess): Promise<void> {
  running.child.kill('SIGINT');
  await running.exited;
}

/** The report's section. */
export function healReportSection(results: HealBenchResults): string[] {
  const lines = ['## Healing and keep-warm: two workers on a 1 Gbit LAN', ''];
  if (results.skipped) return [...lines, `Skipped: ${results.skipped}.`, ''];
  if (results.error) lines.push(`**The benchmark stopped:** ${results.error.split('\n')[0]}`, '');
  lines.push(
    `Synthetic ${syntheticPresets.benchmark.name}. \`hearth load\` over two \`hearth worker\`s with warm caches (each host's cable at \`tc tbf rate 1gbit\`); one worker killed with SIGKILL while serving. ` +
      `Warm load: the launch of \`hearth load\` to its \`ready\` line, in the same round. Heal: the kill to the first answer through the API (503s with Retry-After asked again), the time to notice (the kill to the \`healing\` line) shown apart.`,
    '',
    '| round | warm load (s) | noticed after (s) | answering again after (s) | (answering - noticed) / warm load |',
    '|---|---|---|---|---|',
    ...results.rounds.map((round, index) => `| ${index + 1} | ${round.warmLoad.toFixed(2)} | ${round.notice.toFixed(2)} | ${round.answering.toFixed(2)} | ${((round.answering - round.notice) / round.warmLoad).toFixed(2)}× |`),
    '',
  );
  if (results.healRatio !== undefined) lines.push(`- Heal, median: **${results.healRatio.toFixed(2)}×** a warm load plus the time to notice (goal ≤ 1.5×): ${results.healRatio <= 1.5 ? 'met' : '**not met**'}`);
  if (results.sameOutput !== undefined) lines.push(`- The answer after each heal ${results.sameOutput ? 'equals' : '**differs from**'} the one before.`);
  if (results.keepWarm) {
    const { links, seconds } = results.keepWarm;
    const met = links.every((link) => link.cachedTensorsSent === 0);
    lines.push(
      `- Keep-warm: the joining member warmed in the background in ${seconds.toFixed(1)} s; the next load over both sent ${links.map((link) => `${link.peer}: ${link.cachedTensorsSent} cached tensors, ${(link.bytesTransferred / 2 ** 20).toFixed(2)} MiB over its link (its tensors under 1 MiB: ${(link.smallTensorBytes / 2 ** 20).toFixed(2)} MiB, ${link.smallTensorBytes > 0 ? (link.bytesTransferred / link.smallTensorBytes).toFixed(2) : '–'}×)`).join('; ')} (goal: no cached tensor, only tensors under 1 MiB): ${met ? 'met' : '**not met**'}`,
    );
  }
  return [...lines, ''];
}

// A paired cluster in a network lab: machines that share one cluster key (as pairing leaves
// them), `hearth` processes started inside their namespaces, their JSON lines as events to wait
// for, and one greedy completion asked from inside a machine (its loopback is its own).
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { saveIdentity } from '../../src-main/core/peers/cluster/cluster-identity.js';
import { HEARTH_BIN, REPO_ROOT } from './cli.js';
import type { Lab, LabHost } from './netns.js';

/** One machine of the cluster: its namespace and its own data and cache folders. */
export interface LabMachine {
  host: LabHost;
  name: string;
  dataDir: string;
  cacheDir: string;
}

/** A `hearth` process in a machine, its JSON lines as they come. */
export interface LabProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr(): string;
  /** The next event named `event` (after those already read) that passes `test`; fails after `timeoutMs` or when the process ends first. */
  next(event: string, test?: (value: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Machines for every lab host, all in one cluster; `folder(prefix)` makes each machine's empty folders (tests: scratchDir). */
export async function pairedMachines(lab: Lab, folder: (prefix: string) => string): Promise<LabMachine[]> {
  const clusterKey = randomBytes(32);
  return Promise.all(lab.hosts.map(async (host) => {
    const dataDir = folder(`hearth-${host.name}-data-`);
    await saveIdentity(dataDir, { deviceId: randomUUID(), deviceName: host.name, clusterKey });
    return { host, name: host.name, dataDir, cacheDir: folder(`hearth-${host.name}-cache-`) };
  }));
}

/** Start `hearth args` (with --json) inside the machine. */
export function hearthInLab(lab: Lab, machine: LabMachine, args: string[]): LabProcess {
  const child = lab.exec(machine.host, process.execPath, [HEARTH_BIN, ...args, '--json'], { cwd: REPO_ROOT, env: { ...process.env, HEARTH_DATA_DIR: machine.dataDir } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      events.push({ event: 'text', line });
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    ended = true;
    for (const wake of waiters) wake();
    resolve(code);
  }));
  let read = 0;
  const next = (event: string, test: (value: Record<string, unknown>) => boolean = () => true, timeoutMs = 120_000) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${event}" from hearth ${args[0]} within ${timeoutMs / 1000} s; events: ${JSON.stringify(events.slice(-5))}; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
    const look = () => {
      while (read < events.length) {
        const value = events[read++]!;
        if (value.event === event && test(value)) return finish(null, value);
      }
      if (ended) finish(new Error(`hearth ${args[0]} ended before "${event}"; stderr: ${stderr.slice(-2000)}`));
    };
    const finish = (error: Error | null, value?: Record<string, unknown>) => {
      clearTimeout(timer);
      waiters.delete(look);
      if (error) reject(error);
      else resolve(value!);
    };
    waiters.add(look);
    look();
  });
  return { child, events, stderr: () => stderr, next, exited };
}

/** Start a member worker in the machine (free ports but the link's; mDNS on its lab address); resolves once it serves. */
export async function startLabWorker(lab: Lab, machine: LabMachine, linkPort = 7436): Promise<LabProcess> {
  const worker = hearthInLab(lab, machine, ['worker', '--port', '0', '--rpc-port', '0', '--link-port', String(linkPort), '--link-host', machine.host.address, '--cache-dir', machine.cacheDir]);
  await worker.next('ready');
  return worker;
}

/** Kill a lab process and all it started (its worker's ggml-rpc-server too), with no chance to clean up. */
export function killHard(running: LabProcess): void {
  if (running.child.pid) process.kill(-running.child.pid, 'SIGKILL');
}

/** A greedy completion of fixed length (`tokens`), asked inside the machine of `url` (an OpenAI base URL ending in /v1). */
export async function completeInside(lab: Lab, machine: LabMachine, url: string, prompt: string, tokens: number): Promise<{ status: number; text: string | null; body: string }> {
  const body = JSON.stringify({ model: 'any', prompt, max_tokens: tokens, temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false });
  const script = `fetch(${JSON.stringify(`${url}/completions`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)}, signal: AbortSignal.timeout(120000) })
    .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })))`;
  const child = lab.exec(machine.host, process.execPath, ['-e', script]);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const answer = JSON.parse(stdout) as { status: number; body: string };
  let text: string | null = null;
  try {
    text = (JSON.parse(answer.body) as { choices?: { text: string }[] }).choices?.[0]?.text ?? null;
  } catch { /* an error page: text stays null */ }
  return { status: answer.status, text, body: answer.body };
}

// Long-running `hearth` commands for CLI tests: their JSON lines read as they come, and member
// data folders of one test cluster (distinct machines, one cluster key).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { saveIdentity } from '../../src-main/core/peers/cluster/cluster-identity.js';
import { HEARTH_BIN, REPO_ROOT } from './cli.js';
import { scratchDir } from './models.js';

/** One JSON line of a command's output. */
export type Event = Record<string, unknown>;

/** A long-running `hearth` process whose JSON lines are read as they come. */
export interface Running {
  child: ChildProcess;
  events: Event[];
  /** The first event that matches (rejects if the process ends first). */
  next(name: string, match?: (event: Event) => boolean): Promise<Event>;
  exit: Promise<number | null>;
  stderr(): string;
}

/** How to start a process: node's spawn, or a lab host's `exec` (tests/helpers/netns.ts). */
export type Spawner = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

/** Start `hearth ...args` with extra environment (in a lab host when `spawner` is its `exec`). */
export function startHearth(args: string[], env: NodeJS.ProcessEnv, spawner: Spawner = spawn): Running {
  const child = spawner(process.execPath, [HEARTH_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  const events: Event[] = [];
  let stderr = '';
  let ended = false;
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Event);
    waiters.forEach((wake) => wake());
  });
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => {
    ended = true;
    waiters.forEach((wake) => wake());
    resolve(code);
  }));
  return {
    child,
    events,
    exit,
    stderr: () => stderr,
    next: (name, match = () => true) => new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find((event) => event.event === name && match(event));
        if (found) return waiters.delete(check), resolve(found);
        if (ended) return waiters.delete(check), reject(new Error(`hearth ${args[0]} ended without the "${name}" event awaited: ${stderr}\n${JSON.stringify(events.at(-1))}`));
      };
      waiters.add(check);
      check();
    }),
  };
}

/** A data folder holding a member identity (its own device id, `clusterKey` shared). */
export async function memberDataDir(clusterKey: Buffer, name: string): Promise<string> {
  const dir = scratchDir(`hearth-${name}-`);
  await saveIdentity(dir, { deviceId: randomUUID(), deviceName: name, clusterKey });
  return dir;
}

/** Ctrl-C the process (if it still runs) and resolve to its exit code. */
export async function stopped(running: Running): Promise<number | null> {
  if (running.child.exitCode === null) running.child.kill('SIGINT');
  return running.exit;
}

/** A `hearth worker` of the test cluster on loopback (free ports, discovery off, its own cache folder). */
export function startMemberWorker(clusterKey: Buffer, name: string): Promise<{ running: Running; cacheDir: string; name: string }> {
  const cacheDir = scratchDir(`hearth-${name}-cache-`);
  return memberDataDir(clusterKey, name).then((dataDir) => ({
    running: startHearth(
      ['worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', '127.0.0.1', '--link-port', '0', '--no-discovery', '--cache-dir', cacheDir],
      { HEARTH_DATA_DIR: dataDir },
    ),
    cacheDir,
    name,
  }));
}

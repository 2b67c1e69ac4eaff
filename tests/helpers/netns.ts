// A lab of Linux network namespaces for cluster tests: one namespace holds a bridge (the
// "switch"), each host namespace has one veth cable to it and an address in 10.77.0.0/24.
// Nothing is routed anywhere else, so lab traffic never leaves the lab.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SUBNET = '10.77.0';
const COMMAND_TIMEOUT_MS = 10_000;

/** One machine of the lab. */
export interface LabHost {
  name: string;
  /** Its network namespace. */
  ns: string;
  /** Its IPv4 address, 10.77.0.x. */
  address: string;
}

/** A running lab; `destroy()` removes everything it made. */
export interface Lab {
  hosts: LabHost[];
  /** Start `cmd args` inside `host`'s namespace, in its own process group (killed by destroy). */
  exec(host: LabHost, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Unplug the host's cable at the switch: it vanishes from the LAN without noticing. */
  linkDown(host: LabHost): Promise<void>;
  /** Plug it back in. */
  linkUp(host: LabHost): Promise<void>;
  destroy(): Promise<void>;
}

let counter = 0;
const live = new Set<{ namespaces: string[]; children: Set<ChildProcess> }>();

/** Whether this process may build a lab (root, and `ip netns add` plus a bridge really work). */
export async function canCreateNamespaces(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root or in a privileged container)' };
  const probe = `hearth-probe-${process.pid}-${counter++}`;
  try {
    await ip('netns', 'add', probe);
  } catch (error) {
    return { ok: false, reason: `\`ip netns add\` failed: ${firstLine(error)}` };
  }
  try {
    await ip('-n', probe, 'link', 'add', 'br0', 'type', 'bridge');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `cannot create a bridge in a namespace: ${firstLine(error)}` };
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
}

/** Build a switch and `hosts` machines on it, optionally shaping each cable to `rate`. */
export async function createLab(options: { hosts: number; rate?: '1gbit' }): Promise<Lab> {
  if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > 200) throw new Error('a lab has 1 to 200 hosts');
  // pid + counter: parallel test files (and labs within one file) never share a name.
  const prefix = `hearth-${process.pid}-${counter++}`;
  const state = { namespaces: [] as string[], children: new Set<ChildProcess>() };
  live.add(state);
  installExitCleanup();
  const sw = `${prefix}-sw`;
  const hosts: LabHost[] = Array.from({ length: options.hosts }, (_, i) => ({ name: `host${i + 1}`, ns: `${prefix}-h${i + 1}`, address: `${SUBNET}.${i + 1}` }));
  const port = (host: LabHost) => `p${hosts.indexOf(host) + 1}`;

  const lab: Lab = {
    hosts,
    exec(host, cmd, args, opts = {}) {
      const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], { ...opts, detached: true });
      state.children.add(child);
      child.once('exit', () => state.children.delete(child));
      return child;
    },
    linkDown: (host) => ip('-n', sw, 'link', 'set', port(host), 'down').then(() => undefined),
    linkUp: (host) => ip('-n', sw, 'link', 'set', port(host), 'up').then(() => undefined),
    async destroy() {
      await killAll(state.children);
      for (const ns of state.namespaces.reverse()) await ip('netns', 'del', ns).catch(() => undefined);
      state.namespaces = [];
      live.delete(state);
    },
  };

  try {
    await ip('netns', 'add', sw);
    state.namespaces.push(sw);
    // Snooping off: with no querier a snooping bridge may stop flooding multicast.
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const host of hosts) {
      await ip('netns', 'add', host.ns);
      state.namespaces.push(host.ns);
      // Both ends are created inside the lab's namespaces, so no name ever lands in the root one.
      await ip('link', 'add', 'eth0', 'netns', host.ns, 'type', 'veth', 'peer', 'name', port(host), 'netns', sw);
      await ip('-n', sw, 'link', 'set', port(host), 'master', 'br0');
      await ip('-n', sw, 'link', 'set', port(host), 'up');
      await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
      await ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      await ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
      // Without a route for multicast, sends to 224.0.0.251 fail with ENETUNREACH (no default route here).
      await ip('-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
      if (options.rate) {
        await run('ip', ['netns', 'exec', host.ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', options.rate, 'burst', '256kb', 'latency', '50ms'], { timeout: COMMAND_TIMEOUT_MS });
      }
    }
  } catch (error) {
    await lab.destroy();
    throw new Error(`could not build the network lab: ${firstLine(error)}`, { cause: error });
  }
  return lab;
}

function ip(...args: string[]) {
  return run('ip', args, { timeout: COMMAND_TIMEOUT_MS });
}

async function killAll(children: Set<ChildProcess>): Promise<void> {
  await Promise.all([...children].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(resolve, 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    killGroup(child);
  })));
}

// The whole group: `tsx` runs the real program as a child that a plain kill would leave behind.
function killGroup(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

let exitCleanupInstalled = false;

// Best effort when a test run dies before its afterAll: synchronous, as 'exit' handlers must be.
function installExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  const cleanup = () => {
    for (const state of live) {
      for (const child of state.children) killGroup(child);
      for (const ns of state.namespaces) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
        } catch { /* already gone */ }
      }
    }
    live.clear();
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  return (stderr || (error as Error).message || String(error)).split('\n')[0]!;
}

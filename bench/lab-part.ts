// A process in a lab host for the namespace benchmarks: its stdout read as JSON lines as they
// come (kept draining, so it never blocks on a full pipe), its process group killed at the end.
import type { ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../tests/helpers/cli.js';
import type { Lab, LabHost } from '../tests/helpers/netns.js';

const STOP_TIMEOUT_MS = 20_000;

/** One JSON line of a part's stdout. */
export interface PartEvent {
  /** Milliseconds from the part's launch to this line. */
  at: number;
  line: Record<string, unknown>;
}

/** A process in a lab host, its stdout read as JSON lines as they come (kept draining). */
export interface Part {
  child: ChildProcess;
  events: PartEvent[];
  /** The first `{"event": <event>}` line, or an error when the part ends or the time is up. */
  next(event: string, what: string, timeoutMs: number): Promise<PartEvent>;
  /** The end of its stderr, non-JSON stdout and JSON error messages. */
  output(): string;
  exited(): boolean;
  /** Signal it (not its children), wait, then kill whatever is left of its process group. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Start `command args` in `host`; stdin is a pipe only when asked for. */
export function startPart(lab: Lab, host: LabHost, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean; stdout?: boolean } = {}): Part {
  const started = performance.now();
  const child = lab.exec(host, command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: [options.stdin ? 'pipe' : 'ignore', options.stdout === false ? 'ignore' : 'pipe', 'pipe'] });
  child.stdin?.on('error', () => undefined); // it may end before reading
  const events: PartEvent[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  let text = '';
  let closed = false;
  const keep = (more: string) => (text = (text + more).slice(-4000));
  const notify = () => waiters.forEach((waiter) => waiter());
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        keep(`${line}\n`);
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null) continue;
      const error = (parsed as { error?: { message?: string } }).error;
      if (error) keep(`${error.message ?? JSON.stringify(error)}\n`);
      events.push({ at: performance.now() - started, line: parsed as Record<string, unknown> });
    }
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => keep(chunk.toString()));
  const closing = new Promise<void>((resolve) => child.once('close', () => {
    closed = true;
    notify();
    resolve();
  }));
  const output = () => text.trim();
  const tail = () => `: ${output().split('\n').slice(-6).join(' / ') || '(no output)'}`;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch { /* gone */ }
  };
  return {
    child,
    events,
    output,
    exited: () => closed,
    next: (event, what, timeoutMs) => new Promise((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      const check = (): void => {
        const found = events.find((e) => e.line.event === event);
        if (found) finish(() => resolve(found));
        else if (closed) finish(() => reject(new Error(`${what} ended (exit ${child.exitCode ?? child.signalCode}) without a "${event}" line${tail()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${what}: no "${event}" line within ${timeoutMs / 1000} s${tail()}`))), timeoutMs);
      waiters.add(check);
      check();
    }),
    async stop(signal) {
      if (!closed && child.pid) {
        child.kill(signal);
        const timer = setTimeout(() => killGroup('SIGKILL'), STOP_TIMEOUT_MS);
        await closing;
        clearTimeout(timer);
      }
      // What it started in its group (tsx's program, llama-server) must not outlive it.
      killGroup('SIGKILL');
    },
  };
}

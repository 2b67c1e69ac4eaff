import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Supervisor, type Supervised, type SupervisorState } from '../../../src-main/core/worker/supervisor.js';

/** A real child process that runs `script`, as a supervised instance. */
function nodeProcess(script: string): Supervised & { pid: number } {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    pid: child.pid!,
    exited,
    logTail: () => ['(no output)'],
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('Supervisor', () => {
  it('restarts a crashed process with a growing backoff', async () => {
    const waits: number[] = [];
    let launches = 0;
    const supervisor = new Supervisor({
      initialBackoffMs: 100,
      maxBackoffMs: 400,
      healthyAfterMs: 60_000,
      // Record the delays instead of sleeping them.
      wait: async (ms) => void waits.push(ms),
      launch: async () => {
        launches++;
        // The first four runs crash at once; the fifth keeps running.
        return nodeProcess(launches < 5 ? 'process.exit(3)' : 'setInterval(() => {}, 1000)');
      },
    });
    const states: SupervisorState['state'][] = [];
    supervisor.on('state', (state: SupervisorState) => states.push(state.state));
    await supervisor.start();
    while (launches < 5 || supervisor.state.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    expect(waits).toEqual([100, 200, 400, 400]);
    expect(supervisor.restarts).toBe(4);
    const running = supervisor.current as (Supervised & { pid: number }) | null;
    expect(running).not.toBeNull();

    await supervisor.stop();
    expect(supervisor.state.state).toBe('stopped');
    expect(() => process.kill(running!.pid, 0)).toThrow();
    expect(launches).toBe(5);
    expect(states.filter((state) => state === 'restarting')).toHaveLength(4);
  });

  it('keeps trying when a start fails, and says why', async () => {
    let launches = 0;
    const reasons: string[] = [];
    const supervisor = new Supervisor({
      wait: async () => undefined,
      launch: async () => {
        launches++;
        if (launches === 1) throw new Error('port 50052 is in use');
        return nodeProcess('setInterval(() => {}, 1000)');
      },
    });
    supervisor.on('state', (state: SupervisorState) => state.state === 'restarting' && reasons.push(state.reason));
    await supervisor.start();
    while (supervisor.state.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reasons).toEqual(['port 50052 is in use']);
    await supervisor.stop();
  });

  it('stops at once while waiting to restart', async () => {
    const supervisor = new Supervisor({
      initialBackoffMs: 60_000, // a real wait: stop must cut it short
      launch: async () => nodeProcess('process.exit(1)'),
    });
    await supervisor.start();
    while (supervisor.state.state !== 'restarting') await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(supervisor.state.state).toBe('stopped');
  });
});

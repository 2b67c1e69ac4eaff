import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { HearthError } from '../base/errors.js';

/** Run one build step to completion, feeding each output line to `onLine`. */
export function runStep(
  what: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; signal?: AbortSignal; lowPriority?: boolean },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    // The compilers it starts inherit the priority: a worker serving beside the build keeps its cores.
    if (options.lowPriority && child.pid !== undefined) lowerPriority(child.pid);
    // Keep the tail of the output: a failed compile is explained by its last lines.
    const tail: string[] = [];
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 25) tail.shift();
      options.onLine?.(line);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', (cause) => reject(new HearthError('build-failed', `${what} could not start ${command}: ${cause.message}`, { cause })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new HearthError('build-failed', `${what} failed (${signal ?? `exit code ${code}`}). Last output:\n${tail.join('\n')}`));
    });
  });
}

function lowerPriority(pid: number): void {
  try {
    os.setPriority(pid, os.constants.priority.PRIORITY_LOW);
  } catch {
    // Not allowed here (or already gone): the build runs at normal priority.
  }
}

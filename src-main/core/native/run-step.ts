import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { HearthError } from '../base/errors.js';

/** Run one build step to completion, feeding each output line to `onLine`. */
export function runStep(
  what: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; signal?: AbortSignal },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
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

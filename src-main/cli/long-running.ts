import { usageError, type FlagValue } from './command.js';

/** A port flag's value: a number from 0 (any free port) to 65535, or the default. */
export function portFlag(value: FlagValue, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || port > 65535) throw usageError(`${name} takes a port number from 0 to 65535, got "${String(value)}"`);
  return port;
}

/** Resolve when the user stops a long-running command (Ctrl-C) or the system asks it to end; the process stays up until then. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    // What the command serves may hold no handle of its own (idle kept-alive streams are unref'd): this one keeps it running.
    const alive = setInterval(() => undefined, 2 ** 30);
    const stop = () => {
      clearInterval(alive);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

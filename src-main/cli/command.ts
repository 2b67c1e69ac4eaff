import type { ParseArgsConfig } from 'node:util';
import { HearthError } from '../core/base/errors.js';
import type { CliOutput } from './output.js';

/** One flag's value as parseArgs gives it (a list for flags that may repeat). */
export type FlagValue = string | boolean | string[] | undefined;

/** What a command gets: its words, its flags (already checked against its options) and the output. */
export interface CommandContext {
  positionals: string[];
  flags: Record<string, FlagValue>;
  out: CliOutput;
}

/** One `hearth` command. */
export interface Command {
  name: string;
  /** One line for `hearth --help`. */
  summary: string;
  /** Synopsis, e.g. "hearth info <model.gguf> [--tensors]". */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; resolves to the exit code. */
  run: (context: CommandContext) => Promise<number>;
}

/** A mistake in how a command was called (exit code 2). */
export function usageError(message: string): HearthError {
  return new HearthError('usage', message);
}

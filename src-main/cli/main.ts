import { parseArgs } from 'node:util';
import { isHearthError } from '../core/errors.js';
import type { Command, FlagValue } from './command.js';
import { appCommand } from './commands/app.js';
import { cacheCommand } from './commands/cache.js';
import { chatCommand } from './commands/chat.js';
import { doctorCommand } from './commands/doctor.js';
import { infoCommand } from './commands/info.js';
import { loadCommand } from './commands/load.js';
import { pairCommand } from './commands/pair.js';
import { peersCommand } from './commands/peers.js';
import { planCommand } from './commands/plan.js';
import { serveCommand } from './commands/serve.js';
import { warmCommand } from './commands/warm.js';
import { workerCommand } from './commands/worker.js';
import { CliOutput } from './output.js';

const COMMANDS: Command[] = [infoCommand, doctorCommand, workerCommand, peersCommand, pairCommand, planCommand, warmCommand, loadCommand, chatCommand, cacheCommand, serveCommand, appCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.usage.split('   ')[0]!.length));
  return [
    'Hearth: run big GGUF models across the GPUs of your home lab.',
    '',
    'Usage:',
    ...COMMANDS.map((command) => `  ${command.usage.split('   ')[0]!.padEnd(width)}  ${command.summary}`),
    '',
    'Every command takes --json for machine-readable output.',
  ].join('\n');
}

/** Run `hearth` with these arguments; resolves to the process exit code. Errors never escape as stack traces. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  const out = new CliOutput(json);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { hearthVersion } = await import('../core/app-root.js');
    process.stdout.write(`${hearthVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) return fail(out, 'usage', `unknown command "${name}"\n\n${help()}`, 2);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`Usage: ${command.usage}\n`);
      return 0;
    }
    return await command.run({ positionals, flags: values as Record<string, FlagValue>, out });
  } catch (error) {
    if (isHearthError(error)) return fail(out, error.code, error.message, error.code === 'usage' ? 2 : 1);
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return fail(out, 'usage', `${(error as Error).message}\nUsage: ${command.usage}`, 2);
    if (process.env.HEARTH_DEBUG) console.error(error);
    return fail(out, 'internal', `unexpected error: ${(error as Error).message ?? String(error)} (set HEARTH_DEBUG=1 for details)`, 1);
  }
}

function fail(out: CliOutput, code: string, message: string, exitCode: number): number {
  if (out.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`hearth: ${message}\n`);
  return exitCode;
}

import { parseArgs } from 'node:util';
import { isHearthError } from '../core/base/errors.js';
import type { Command, FlagValue } from './command.js';
import { CliOutput } from './output.js';

// Each command's module is loaded only when it runs (or for the help): a command starts without
// loading every other one's dependencies (mDNS, the web server, the app's IPC).
const COMMANDS: [string, () => Promise<Command>][] = [
  ['info', async () => (await import('./commands/info.js')).infoCommand],
  ['doctor', async () => (await import('./commands/doctor.js')).doctorCommand],
  ['worker', async () => (await import('./commands/worker.js')).workerCommand],
  ['peers', async () => (await import('./commands/peers.js')).peersCommand],
  ['pair', async () => (await import('./commands/pair.js')).pairCommand],
  ['plan', async () => (await import('./commands/plan.js')).planCommand],
  ['warm', async () => (await import('./commands/warm.js')).warmCommand],
  ['load', async () => (await import('./commands/load.js')).loadCommand],
  ['chat', async () => (await import('./commands/chat.js')).chatCommand],
  ['cache', async () => (await import('./commands/cache.js')).cacheCommand],
  ['serve', async () => (await import('./commands/serve.js')).serveCommand],
  ['app', async () => (await import('./commands/app.js')).appCommand],
];

async function help(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(([, load]) => load()));
  const width = Math.max(...commands.map((command) => command.usage.split('   ')[0]!.length));
  return [
    'Hearth: run big GGUF models across the GPUs of your home lab.',
    '',
    'Usage:',
    ...commands.map((command) => `  ${command.usage.split('   ')[0]!.padEnd(width)}  ${command.summary}`),
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
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { hearthVersion } = await import('../core/base/app-root.js');
    process.stdout.write(`${hearthVersion()}\n`);
    return 0;
  }
  const load = COMMANDS.find(([candidate]) => candidate === name)?.[1];
  if (!load) return fail(out, 'usage', `unknown command "${name}"\n\n${await help()}`, 2);
  let command: Command | undefined;
  try {
    command = await load();
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
    if (command && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return fail(out, 'usage', `${(error as Error).message}\nUsage: ${command.usage}`, 2);
    if (process.env.HEARTH_DEBUG) console.error(error);
    return fail(out, 'internal', `unexpected error: ${(error as Error).message ?? String(error)} (set HEARTH_DEBUG=1 for details)`, 1);
  }
}

function fail(out: CliOutput, code: string, message: string, exitCode: number): number {
  if (out.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`hearth: ${message}\n`);
  return exitCode;
}

#!/usr/bin/env node
// Launcher for the compiled CLI (dist/main). `npm install` builds it; `npm run build` refreshes it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('hearth: not built yet: run "npm run build" in the Hearth folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
// A finished command must not hang on a stray handle (a timer or socket some part left open):
// give pending output a moment to flush, then end.
setTimeout(() => process.exit(), 2000).unref();

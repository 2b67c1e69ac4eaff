import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { dir: string; version: string } | undefined;

// Sources run from src-main/ (tests) and compiled code from dist/main/ (CLI, app): both sit
// somewhere below the folder holding Hearth's package.json, at different depths.
function findRoot(): { dir: string; version: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hearth') return { dir, version: pkg.version ?? '0.0.0' };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Hearth's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The folder holding Hearth's package.json (the checkout, or the app's resources when packaged). */
export function appRoot(): string {
  cached ??= findRoot();
  return cached.dir;
}

/** Hearth's version, from its package.json. */
export function hearthVersion(): string {
  cached ??= findRoot();
  return cached.version;
}

import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { HearthError } from '../base/errors.js';

/** The programs a build from source needs, with the package that brings each on common systems. */
const REQUIRED: { what: string; names: string[]; install: string }[] = [
  { what: 'git', names: ['git'], install: 'Debian/Ubuntu: sudo apt-get install git · Fedora: sudo dnf install git · macOS: xcode-select --install' },
  { what: 'cmake', names: ['cmake'], install: 'Debian/Ubuntu: sudo apt-get install cmake · Fedora: sudo dnf install cmake · macOS: brew install cmake · Windows: winget install Kitware.CMake' },
  { what: 'a C++ compiler', names: ['c++', 'g++', 'clang++', 'cl'], install: 'Debian/Ubuntu: sudo apt-get install g++ · Fedora: sudo dnf install gcc-c++ · macOS: xcode-select --install · Windows: Visual Studio Build Tools' },
];

/** Full path of the first of `names` found on PATH, or undefined. */
export function findOnPath(names: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const name of names) {
    for (const dir of dirs) {
      for (const ext of exts) {
        const candidate = path.join(dir, name + ext);
        try {
          accessSync(candidate, constants.X_OK);
          return candidate;
        } catch {
          // not here
        }
      }
    }
  }
  return undefined;
}

/** Throw a HearthError naming the first missing build tool and how to install it. */
export function assertToolchain(env: NodeJS.ProcessEnv = process.env): void {
  for (const tool of REQUIRED) {
    if (!findOnPath(tool.names, env)) {
      throw new HearthError(
        'toolchain-missing',
        `Building the llama.cpp tools needs ${tool.what}, which was not found on PATH (looked for ${tool.names.join(', ')}). Install it — ${tool.install} — then try again.`,
      );
    }
  }
}

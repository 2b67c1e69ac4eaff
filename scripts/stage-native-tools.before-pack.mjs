// electron-builder's beforePack hook (electron-builder.yml): refuse to make an installer without the
// staged llama.cpp tools for its platform and arch. electron-builder itself only warns when an
// extraResources folder is missing, and an installed Hearth cannot build its own tools.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const { Arch } = createRequire(import.meta.url)('builder-util');

/** Throws unless `build/native/<platform>-<arch>/tools.json` was staged for this target. */
export default function beforePack(context) {
  const target = `${context.electronPlatformName}-${Arch[context.arch]}`;
  const dir = path.join(context.packager.projectDir, 'build', 'native', target);
  const manifestFile = path.join(dir, 'tools.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`No llama.cpp tools are staged for ${target} in ${dir}: run "npm run stage:native" on a ${target} machine first.`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  if (`${manifest.platform}-${manifest.arch}` !== target) {
    throw new Error(`${manifestFile} holds tools for ${manifest.platform}-${manifest.arch}, not ${target}: stage them again.`);
  }
}

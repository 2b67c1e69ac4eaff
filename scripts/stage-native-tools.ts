// Stages this machine's llama.cpp tools, with the backend modules they load, for electron-builder
// to pack as `llama.cpp/` (electron-builder.yml). Builds them first if needed. Run by `npm run package`:
//   npm run stage:native
import path from 'node:path';
import { appRoot } from '../src-main/core/base/app-root.js';
import { isHearthError } from '../src-main/core/base/errors.js';
import { stageBundle, stagedBundleDir } from '../src-main/core/native/stage-bundle.js';
import { ensureBuild, locateTools, nodeModulesDir } from '../src-main/core/native/tools.js';

try {
  // Always this checkout's build (never a HEARTH_TOOLS_DIR bundle): bundles are made from builds.
  const location = await locateTools();
  await ensureBuild(location, { onProgress: ({ step }) => process.stderr.write(`[llama.cpp tools] ${step}\n`) });
  const outDir = stagedBundleDir(appRoot());
  const manifest = await stageBundle({ buildDir: location.dir, nodeModulesDir: nodeModulesDir(), outDir });
  const backends = manifest.backends.map((module) => (module.runtimeMajor ? `${module.backend} ${module.runtimeMajor}` : module.backend));
  console.log(
    `Staged llama.cpp ${manifest.release} (${manifest.key}) into ${path.relative(process.cwd(), outDir)}: ` +
      `${manifest.files.length} files, backends ${[...new Set(backends)].join(', ')}`,
  );
} catch (error) {
  console.error(`stage-native-tools: ${isHearthError(error) ? error.message : String((error as Error).stack ?? error)}`);
  process.exitCode = 1;
}

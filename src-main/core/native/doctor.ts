import { cudaCandidates } from './backends.js';
import { findBundledTools, type BundleLocation } from './bundled-tools.js';
import { locateTools, nodeModulesDir, openBuild, type LlamaTools, type ToolsOptions } from './tools.js';
import { listDevices, type ListedDevice } from './devices.js';

/** Whether one ggml backend can be used here, and why not. */
export interface BackendReport {
  backend: 'CPU' | 'CUDA' | 'Vulkan' | 'Metal';
  usable: boolean;
  devices: ListedDevice[];
  /** The module file the tools load, if any. */
  module: string | null;
  /** Why it is not usable, with what to do. */
  reason: string | null;
}

/** Everything `hearth doctor` shows. */
export interface DoctorReport {
  release: string;
  /** Which tools are in use: bundled with the app (or in HEARTH_TOOLS_DIR), or built from source on this machine. */
  toolsSource: 'bundled' | 'built';
  /** For bundled tools, who pointed at them: the installed app, or the HEARTH_TOOLS_DIR variable. */
  bundleOrigin: BundleLocation['origin'] | null;
  /** The bundle folder, or the build folder (where the tools will be built, when they are not yet). */
  toolsDir: string;
  /** Set once the tools are there (the worker's first: `targets` says whether llama-server is built yet). */
  tools: Pick<LlamaTools, 'key' | 'binDir' | 'rpcServer' | 'llamaServer' | 'rpcProtocol' | 'targets'> & { patches: string[] } | null;
  backends: BackendReport[];
}

/** What the advice for an unusable backend depends on. */
interface ToolsFacts {
  source: DoctorReport['toolsSource'];
  /** Whether any CUDA build of ggml is at hand (in the bundle, or among node-llama-cpp's packages). */
  hasCudaModule: boolean;
}

/** Look at the tools in use and ask ggml which backends load and which devices they see. */
export async function diagnose(options: ToolsOptions = {}): Promise<DoctorReport> {
  const bundled = await findBundledTools(options.env ?? process.env);
  if (bundled) {
    const hasCudaModule = bundled.manifest.backends.some((module) => module.backend === 'CUDA');
    const where = { toolsSource: 'bundled', bundleOrigin: bundled.origin, toolsDir: bundled.dir } as const;
    return inspect(bundled.tools, bundled.manifest.patches, where, hasCudaModule);
  }
  const location = await locateTools(options);
  const where = { toolsSource: 'built', bundleOrigin: null, toolsDir: location.dir } as const;
  if (location.built.length === 0) return { release: location.source.release, ...where, tools: null, backends: [] };
  const tools = await openBuild(location.dir, options.env);
  return inspect(tools, location.inputs.patches.map((patch) => patch.name), where, cudaCandidates(nodeModulesDir()).length > 0);
}

async function inspect(
  tools: LlamaTools,
  patches: string[],
  where: Pick<DoctorReport, 'toolsSource' | 'bundleOrigin' | 'toolsDir'>,
  hasCudaModule: boolean,
): Promise<DoctorReport> {
  const devices = await listDevices(tools);
  const facts: ToolsFacts = { source: where.toolsSource, hasCudaModule };
  return {
    release: tools.release,
    ...where,
    tools: {
      key: tools.key,
      binDir: tools.binDir,
      rpcServer: tools.rpcServer,
      llamaServer: tools.llamaServer,
      rpcProtocol: tools.rpcProtocol,
      targets: tools.targets,
      patches,
    },
    backends: (['CPU', 'CUDA', 'Vulkan', 'Metal'] as const).map((backend) => reportBackend(backend, tools, devices, facts)),
  };
}

function reportBackend(backend: BackendReport['backend'], tools: LlamaTools, all: ListedDevice[], facts: ToolsFacts): BackendReport {
  const devices = all.filter((device) => device.backend === backend);
  const linked = tools.backends.find((module) => module.backend === backend);
  const module = devices[0]?.modulePath ?? linked?.sourcePath ?? null;
  if (devices.length > 0) return { backend, usable: true, devices, module, reason: null };
  return { backend, usable: false, devices, module, reason: whyUnusable(backend, linked !== undefined, facts) };
}

function whyUnusable(backend: BackendReport['backend'], linked: boolean, facts: ToolsFacts): string {
  const bundled = facts.source === 'bundled';
  switch (backend) {
    case 'CPU':
      if (bundled) return linked ? 'the bundled CPU module did not load: reinstall Hearth' : 'this Hearth carries no CPU module for this machine: reinstall Hearth';
      return linked
        ? 'the CPU module did not load: run "npm install" again to restore node-llama-cpp\'s platform package'
        : `node-llama-cpp's ${process.platform}-${process.arch} package is missing: run "npm install" again`;
    case 'CUDA':
      if (linked) return 'the CUDA module loaded no device: no NVIDIA GPU, or the NVIDIA driver is not installed';
      if (facts.hasCudaModule) return 'no CUDA runtime found: install the NVIDIA driver and the CUDA runtime libraries (libcudart and libcublas, version 13 or 12)';
      return bundled ? 'this Hearth carries no CUDA module for this platform' : "node-llama-cpp's CUDA package is not installed for this platform";
    case 'Vulkan':
      if (linked) return 'the Vulkan module found no device: install the Vulkan loader (libvulkan1) and your GPU\'s Vulkan driver';
      return bundled ? 'this Hearth carries no Vulkan module for this platform' : "node-llama-cpp's Vulkan package is not installed for this platform";
    case 'Metal':
      if (process.platform !== 'darwin') return 'Metal is only on macOS';
      return bundled ? 'this Hearth carries no Metal module' : "node-llama-cpp's Metal package is not installed";
  }
}

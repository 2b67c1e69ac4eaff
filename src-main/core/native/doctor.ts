import { cudaCandidates } from './backends.js';
import { locateTools, nodeModulesDir, openBuild, type LlamaTools, type ToolsOptions } from './tools.js';
import { listDevices, type ListedDevice } from '../worker/devices.js';

/** Whether one ggml backend can be used here, and why not. */
export interface BackendReport {
  backend: 'CPU' | 'CUDA' | 'Vulkan' | 'Metal';
  usable: boolean;
  devices: ListedDevice[];
  /** The module file linked beside the tools, if any. */
  module: string | null;
  /** Why it is not usable, with what to do. */
  reason: string | null;
}

/** Everything `hearth doctor` shows. */
export interface DoctorReport {
  release: string;
  /** Set once the tools are built. */
  tools: Pick<LlamaTools, 'key' | 'binDir' | 'rpcServer' | 'llamaServer' | 'rpcProtocol'> & { patches: string[] } | null;
  /** Where the tools will be built, when they are not yet. */
  buildDir: string;
  backends: BackendReport[];
}

/** Look at the tools and ask ggml which backends load and which devices they see. */
export async function diagnose(options: ToolsOptions = {}): Promise<DoctorReport> {
  const location = await locateTools(options);
  if (!location.built) return { release: location.source.release, tools: null, buildDir: location.dir, backends: [] };
  const tools = await openBuild(location.dir, options.env);
  const devices = await listDevices(tools);
  return {
    release: tools.release,
    tools: {
      key: tools.key,
      binDir: tools.binDir,
      rpcServer: tools.rpcServer,
      llamaServer: tools.llamaServer,
      rpcProtocol: tools.rpcProtocol,
      patches: location.inputs.patches.map((patch) => patch.name),
    },
    buildDir: location.dir,
    backends: (['CPU', 'CUDA', 'Vulkan', 'Metal'] as const).map((backend) => reportBackend(backend, tools, devices)),
  };
}

function reportBackend(backend: BackendReport['backend'], tools: LlamaTools, all: ListedDevice[]): BackendReport {
  const devices = all.filter((device) => device.backend === backend);
  const linked = tools.backends.find((module) => module.backend === backend);
  const module = devices[0]?.modulePath ?? linked?.sourcePath ?? null;
  if (devices.length > 0) return { backend, usable: true, devices, module, reason: null };
  return { backend, usable: false, devices, module, reason: whyUnusable(backend, linked !== undefined) };
}

function whyUnusable(backend: BackendReport['backend'], linked: boolean): string {
  switch (backend) {
    case 'CPU':
      return linked
        ? 'the CPU module did not load: run "npm install" again to restore node-llama-cpp\'s platform package'
        : `node-llama-cpp's ${process.platform}-${process.arch} package is missing: run "npm install" again`;
    case 'CUDA':
      if (linked) return 'the CUDA module loaded no device: no NVIDIA GPU, or the NVIDIA driver is not installed';
      return cudaCandidates(nodeModulesDir()).length > 0
        ? 'no CUDA runtime found: install the NVIDIA driver and the CUDA runtime libraries (libcudart and libcublas, version 13 or 12)'
        : "node-llama-cpp's CUDA package is not installed for this platform";
    case 'Vulkan':
      return linked
        ? 'the Vulkan module found no device: install the Vulkan loader (libvulkan1) and your GPU\'s Vulkan driver'
        : "node-llama-cpp's Vulkan package is not installed for this platform";
    case 'Metal':
      return process.platform === 'darwin' ? "node-llama-cpp's Metal package is not installed" : 'Metal is only on macOS';
  }
}

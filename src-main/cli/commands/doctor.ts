import { hearthVersion } from '../../core/base/app-root.js';
import { diagnose, type DoctorReport } from '../../core/native/doctor.js';
import { ensureTools } from '../../core/native/tools.js';
import type { Command } from '../command.js';
import { formatBytes, table } from '../format.js';

/** `hearth doctor`: which llama.cpp tools are in use, their release and protocol, and the usable backends. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'tools, their llama.cpp release, RPC protocol, usable backends',
  usage: 'hearth doctor [--build] [--json]',
  options: { build: { type: 'boolean' } },
  async run({ flags, out }) {
    if (flags.build) await ensureTools({ onProgress: ({ step, fraction }) => out.progress(step, fraction) });
    const report = await diagnose();
    out.result({ hearthVersion: hearthVersion(), platform: process.platform, arch: process.arch, ...report }, () => {
      const head = `Hearth ${hearthVersion()} on ${process.platform} ${process.arch}, llama.cpp ${report.release}`;
      if (!report.tools) {
        return `${head}\n\nThe llama.cpp tools are not built yet. They build once from the bundled source into ${report.toolsDir},\nthe first time they are needed: the worker's ggml-rpc-server first (about a minute on 2 cores),\nllama-server when a model is first loaded on this machine (about 5 minutes more).\nRun "hearth doctor --build" to build both now.`;
      }
      const tools = table([
        ['Tools', toolsSource(report)],
        ['ggml-rpc-server', report.tools.rpcServer],
        ['llama-server', report.tools.targets.includes('llama-server') ? report.tools.llamaServer : NOT_BUILT],
        ['RPC protocol', report.tools.rpcProtocol],
        ['Patches', report.tools.patches.join(', ') || 'none'],
      ]);
      const backends = report.backends
        .map((backend) =>
          backend.usable
            ? `  ${backend.backend.padEnd(7)} usable: ${backend.devices.map((device) => `${device.name} (${device.description}, ${formatBytes(device.totalBytes)})`).join(', ')}\n          module ${backend.module}`
            : `  ${backend.backend.padEnd(7)} not usable: ${backend.reason}`,
        )
        .join('\n');
      return `${head}\n\n${tools}\n\nBackends:\n${backends}`;
    });
    return report.tools && report.backends.some((backend) => backend.usable) ? 0 : 1;
  },
};

const NOT_BUILT = 'not built yet: it builds when a model is first loaded here (about 5 minutes on 2 cores), or now with "hearth doctor --build"';

/** Which tools are in use, in words. */
function toolsSource(report: DoctorReport): string {
  if (report.toolsSource === 'built') return `built from source (${report.toolsDir})`;
  return report.bundleOrigin === 'app' ? `bundled with the app (${report.toolsDir})` : `bundled, from HEARTH_TOOLS_DIR (${report.toolsDir})`;
}

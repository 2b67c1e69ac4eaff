import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import type { DeviceInfo } from '../../shared/devices.js';
import type { LlamaTools } from './tools.js';

/** A device as Hearth's patched `ggml-rpc-server --list-devices` reports it, with the module it came from. */
export interface ListedDevice extends DeviceInfo {
  /** ggml backend name: "CPU", "CUDA", "Vulkan", "Metal". */
  backend: string;
  /** Real path of the backend module that provides it, when ggml loaded one. */
  modulePath: string | null;
}

/** Every device the tools can use on this machine (CPU included), by asking ggml itself. */
export async function listDevices(tools: LlamaTools): Promise<ListedDevice[]> {
  const { stdout, stderr } = await promisify(execFile)(tools.rpcServer, ['--list-devices'], { env: tools.env, cwd: tools.cwd, timeout: 60_000 });
  return parseDeviceList(stdout, stderr);
}

/**
 * Parse `device|name|backend|description|total|free` lines (stdout of Hearth's rpc-server patch)
 * and ggml's `loaded X backend from PATH` lines (stderr).
 */
export function parseDeviceList(stdout: string, stderr: string): ListedDevice[] {
  const modules = new Map<string, string>();
  for (const match of stderr.matchAll(/loaded (\S+) backend from (.+)$/gm)) modules.set(match[1]!, resolveLink(match[2]!.trim()));
  const devices: ListedDevice[] = [];
  for (const line of stdout.split('\n')) {
    const parts = line.trim().split('|');
    if (parts[0] !== 'device' || parts.length < 6) continue;
    const [, name, backend, description, total, free] = parts as [string, string, string, string, string, string];
    devices.push({ name, backend, description, totalBytes: Number(total), freeBytes: Number(free), modulePath: modules.get(backend) ?? null });
  }
  return devices;
}

function resolveLink(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
